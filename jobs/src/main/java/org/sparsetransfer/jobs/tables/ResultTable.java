package org.sparsetransfer.jobs.tables;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;

import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Transfer results: one row per (checkpoint, settings, task, regime, seed). Written by MERGE on
 * that key, so a retried task or a rerun replaces its row instead of adding one.
 */
public final class ResultTable {
    public static final List<String> KEY = List.of("checkpoint_id", "settings_hash", "task", "regime", "seed");
    public static final StructType SCHEMA = new StructType()
            .add("checkpoint_id", DataTypes.StringType, false)
            .add("settings_hash", DataTypes.StringType, false)
            .add("task", DataTypes.StringType, false)
            .add("regime", DataTypes.StringType, false)
            .add("seed", DataTypes.LongType, false)
            .add("method", DataTypes.StringType, false)
            .add("sparsity", DataTypes.DoubleType, false)
            .add("actual_sparsity", DataTypes.DoubleType, false)
            .add("metric", DataTypes.StringType, false)
            .add("value", DataTypes.DoubleType, true)
            .add("top1", DataTypes.DoubleType, true)
            .add("mean_per_class", DataTypes.DoubleType, true)
            .add("status", DataTypes.StringType, false)
            .add("error", DataTypes.StringType, true)
            .add("train_steps", DataTypes.IntegerType, false)
            .add("wall_s", DataTypes.DoubleType, false)
            .add("device", DataTypes.StringType, false)
            .add("created_at", DataTypes.TimestampType, false);

    private final SparkSession spark;
    private final String path;
    private final Long version;

    public ResultTable(SparkSession spark, Warehouse warehouse) {
        this(spark, warehouse, null);
    }

    /** Reads the table as of {@code version} (time travel), or the latest when null. */
    public ResultTable(SparkSession spark, Warehouse warehouse, Long version) {
        this.spark = spark;
        this.path = warehouse.transferResults();
        this.version = version;
    }

    public void write(List<Row> rows) {
        if (!rows.isEmpty()) {
            DeltaTables.merge(spark, path, SCHEMA, spark.createDataFrame(rows, SCHEMA), KEY);
        }
    }

    /** Keys "checkpoint|task|regime|seed" of successful runs under {@code settingsHash}. */
    public Set<String> completed(String settingsHash) {
        return table().where(col("settings_hash").equalTo(lit(settingsHash)).and(col("status").equalTo(lit("ok"))))
                .select("checkpoint_id", "task", "regime", "seed").collectAsList().stream()
                .map(r -> key(r.getString(0), r.getString(1), r.getString(2), r.getLong(3)))
                .collect(Collectors.toSet());
    }

    public static String key(String checkpointId, String task, String regime, long seed) {
        return checkpointId + "|" + task + "|" + regime + "|" + seed;
    }

    public Dataset<Row> table() {
        return DeltaTables.read(spark, path, SCHEMA, version);
    }
}
