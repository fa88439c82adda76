package org.sparsetransfer.jobs.tables;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;

import java.sql.Timestamp;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.sparsetransfer.core.InvalidInputException;
import scala.jdk.javaapi.CollectionConverters;

/**
 * One row per successful command run: its config and the Delta version of every tracked table
 * before and after it. With these, {@code report --as-of-run} rebuilds that run's report by time
 * travel, whatever has been written since.
 */
public final class RunTable {
    public static final StructType SCHEMA = new StructType()
            .add("run_id", DataTypes.StringType, false)
            .add("command", DataTypes.StringType, false)
            .add("experiment", DataTypes.StringType, false)
            .add("started_at", DataTypes.TimestampType, false)
            .add("finished_at", DataTypes.TimestampType, false)
            .add("config_yaml", DataTypes.StringType, false)
            .add("versions_before", DataTypes.createMapType(DataTypes.StringType, DataTypes.LongType), false)
            .add("versions_after", DataTypes.createMapType(DataTypes.StringType, DataTypes.LongType), false);

    /** A run as recorded. */
    public record Run(String runId, String command, String configYaml, Map<String, Long> versionsAfter) {}

    private final SparkSession spark;
    private final Warehouse warehouse;

    public RunTable(SparkSession spark, Warehouse warehouse) {
        this.spark = spark;
        this.warehouse = warehouse;
    }

    /** The current version of every tracked table (-1: absent). */
    public Map<String, Long> versions() {
        Map<String, Long> versions = new LinkedHashMap<>();
        warehouse.trackedTables().forEach((name, path) -> versions.put(name, DeltaTables.version(spark, path)));
        return versions;
    }

    public void record(String runId, String command, String experiment, Instant started, String configYaml,
            Map<String, Long> before, Map<String, Long> after) {
        Row row = RowFactory.create(runId, command, experiment, Timestamp.from(started), Timestamp.from(Instant.now()), configYaml,
                CollectionConverters.asScala(before), CollectionConverters.asScala(after));
        DeltaTables.merge(spark, warehouse.runs(), SCHEMA, spark.createDataFrame(List.of(row), SCHEMA), List.of("run_id"));
    }

    public Run get(String runId) {
        List<Row> rows = DeltaTables.read(spark, warehouse.runs(), SCHEMA).where(col("run_id").equalTo(lit(runId)))
                .collectAsList();
        if (rows.isEmpty()) {
            throw new InvalidInputException("No run " + runId + " is recorded in " + warehouse.runs()
                    + "; list them with: SELECT run_id, command, finished_at FROM delta.`" + warehouse.runs() + "`");
        }
        Row r = rows.get(0);
        Map<String, Long> after = new LinkedHashMap<>(CollectionConverters.asJava(r.<scala.collection.Map<String, Long>>getAs("versions_after")));
        return new Run(r.getAs("run_id"), r.getAs("command"), r.getAs("config_yaml"), after);
    }
}
