package org.sparsetransfer.jobs.tables;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;

import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Transfer results: one row per (checkpoint, settings, task, regime, seed). A {@link Writer}
 * appends the rows of runs the table has no row for and merges on that key the others, so a
 * rerun replaces a run's row instead of adding one.
 */
public final class ResultTable {
    /** The {@code status} of a run that finished with scores, and of one that did not (its {@code error} says why). */
    public static final String OK = "ok";
    public static final String FAILED = "failed";
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
            .add("created_at", DataTypes.TimestampType, false)
            .add("software_version", DataTypes.StringType, true)
            // What the run chose and how far it converged (TransferExperiment.Details); null where a run has none.
            .add("final_loss", DataTypes.DoubleType, true)
            .add("penalty", DataTypes.DoubleType, true)
            .add("learning_rate", DataTypes.DoubleType, true)
            .add("converged", DataTypes.BooleanType, true)
            .add("validation_score", DataTypes.DoubleType, true)
            .add("test_correct", DataTypes.BinaryType, true);

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

    /**
     * A writer for one run of the transfer stage, given the keys (see {@link #key}) the table held
     * when the run planned its work, as {@link #statuses} returned them.
     */
    public Writer writer(Set<String> recorded) {
        return new Writer(new HashSet<>(recorded));
    }

    /**
     * Stores result rows. A row whose key the table does not hold is appended: a commit that
     * reads no table files, where a MERGE joins every batch with the whole table and cost a
     * transfer stage's driver half its CPU. A row whose key it holds (a failed run retried, or a
     * key this writer stored before) is merged, replacing that row. Appending is safe because a
     * run of the transfer stage is the only writer of its keys: the warehouse's transfer lock
     * ({@link WarehouseLock}) keeps a second run out, and Spark hands each task's result over once.
     */
    public final class Writer {
        private final Set<String> recorded;

        private Writer(Set<String> recorded) {
            this.recorded = recorded;
        }

        public void write(List<Row> rows) {
            Map<Boolean, List<Row>> known = rows.stream().collect(Collectors.partitioningBy(r -> recorded.contains(key(r))));
            if (!known.get(false).isEmpty()) {
                DeltaTables.append(spark, path, SCHEMA, spark.createDataFrame(known.get(false), SCHEMA));
            }
            if (!known.get(true).isEmpty()) {
                DeltaTables.merge(spark, path, SCHEMA, spark.createDataFrame(known.get(true), SCHEMA), KEY);
            }
            rows.forEach(r -> recorded.add(key(r)));
        }
    }

    /** The status ({@link #OK} or {@link #FAILED}) of every run recorded under {@code settingsHash}, by {@link #key}. */
    public Map<String, String> statuses(String settingsHash) {
        return table().where(col("settings_hash").equalTo(lit(settingsHash)))
                .select("checkpoint_id", "task", "regime", "seed", "status").collectAsList().stream()
                .collect(Collectors.toMap(r -> key(r.getString(0), r.getString(1), r.getString(2), r.getLong(3)),
                        r -> r.getString(4), (a, b) -> OK.equals(a) ? a : b));
    }

    /** A result row's key; the row's columns are in {@link #SCHEMA}'s order. */
    static String key(Row row) {
        return key(row.getString(0), row.getString(2), row.getString(3), row.getLong(4));
    }

    public static String key(String checkpointId, String task, String regime, long seed) {
        return checkpointId + "|" + task + "|" + regime + "|" + seed;
    }

    public Dataset<Row> table() {
        return DeltaTables.read(spark, path, SCHEMA, version);
    }
}
