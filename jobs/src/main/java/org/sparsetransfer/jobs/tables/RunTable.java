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
import org.sparsetransfer.core.SoftwareVersion;
import scala.jdk.javaapi.CollectionConverters;

/**
 * One row per successful command run: its config, the software that ran it, and the Delta version
 * (and table id) of every tracked table before and after it. With these, {@code report --as-of-run}
 * rebuilds that run's report by time travel, whatever has been written since, and every command
 * checks first that no table has lost commits a run recorded ({@link #checkNoCommitsLost}).
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
            .add("versions_after", DataTypes.createMapType(DataTypes.StringType, DataTypes.LongType), false)
            .add("table_ids", DataTypes.createMapType(DataTypes.StringType, DataTypes.StringType), true)
            .add("software_version", DataTypes.StringType, true);

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

    /** The Delta table id of every tracked table that exists (a table made anew has a new id). */
    public Map<String, String> tableIds() {
        Map<String, String> ids = new LinkedHashMap<>();
        warehouse.trackedTables().forEach((name, path) -> {
            String id = DeltaTables.tableId(spark, path);
            if (id != null) {
                ids.put(name, id);
            }
        });
        return ids;
    }

    public void record(String runId, String command, String experiment, Instant started, String configYaml,
            Map<String, Long> before, Map<String, Long> after) {
        Row row = RowFactory.create(runId, command, experiment, Timestamp.from(started), Timestamp.from(Instant.now()), configYaml,
                CollectionConverters.asScala(before), CollectionConverters.asScala(after), CollectionConverters.asScala(tableIds()),
                SoftwareVersion.current());
        DeltaTables.merge(spark, warehouse.runs(), SCHEMA, spark.createDataFrame(List.of(row), SCHEMA), List.of("run_id"));
    }

    /**
     * Fails when a table is at an older version than a recorded run left it at: the newest
     * entries of its Delta log were lost (deleted, or a restore from an older backup), which Delta
     * cannot see, since the table then simply reads as it was before them. A table made anew
     * (another Delta table id, e.g. one rebuilt after damage) is not compared with runs of the
     * old one. The runs are read before the tables: a version a run recorded was committed before
     * the run recorded it, so a concurrent run's commits cannot look lost.
     */
    public void checkNoCommitsLost() {
        if (!DeltaTables.exists(spark, warehouse.runs())) {
            return;
        }
        List<Row> runs = DeltaTables.read(spark, warehouse.runs(), SCHEMA).select("run_id", "versions_after", "table_ids")
                .where(col("table_ids").isNotNull()).collectAsList();
        Map<String, Long> current = versions();
        Map<String, String> ids = tableIds();
        for (Row run : runs) {
            Map<String, Long> after = CollectionConverters.asJava(run.<scala.collection.Map<String, Long>>getAs("versions_after"));
            Map<String, String> recordedIds = CollectionConverters.asJava(run.<scala.collection.Map<String, String>>getAs("table_ids"));
            for (Map.Entry<String, Long> e : after.entrySet()) {
                String table = e.getKey();
                Long now = current.get(table);
                if (now == null || now < 0 || !ids.get(table).equals(recordedIds.get(table)) || now >= e.getValue()) {
                    continue;
                }
                String path = warehouse.trackedTables().get(table);
                String lost = e.getValue() == now + 1 ? "the entry of version " + (now + 1)
                        : "the entries of versions " + (now + 1) + " to " + e.getValue();
                throw new InvalidInputException(String.format("Delta table %s (%s) is at version %d, but run %s left it at version %d: "
                        + "its log has lost %s (%s/_delta_log/%020d.json%s); %s", table, path, now, run.getString(0), e.getValue(),
                        lost, path, now + 1, e.getValue() == now + 1 ? "" : " and on", Warehouse.rebuildHint(table, path)));
            }
        }
    }

    /** The tables whose version moved from {@code before} to {@code after}, e.g. "transfer_results version 3 to 5". */
    public static String describeChanges(Map<String, Long> before, Map<String, Long> after) {
        List<String> changed = new java.util.ArrayList<>();
        after.forEach((table, version) -> {
            long was = before.getOrDefault(table, -1L);
            if (version != was) {
                changed.add(was < 0 ? table + " created at version " + version : table + " version " + was + " to " + version);
            }
        });
        return String.join(", ", changed);
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
