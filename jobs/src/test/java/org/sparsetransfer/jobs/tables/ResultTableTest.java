package org.sparsetransfer.jobs.tables;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.delta.tables.DeltaTable;
import java.nio.file.Path;
import java.sql.Timestamp;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sparsetransfer.jobs.spark.SparkSessions;

/** Result rows are appended when their key is new and merged when it is not: one row per run either way. */
class ResultTableTest {
    private static final String SETTINGS = "s1";

    @TempDir
    Path out;
    private SparkSession spark;

    @AfterEach
    void stop() {
        if (spark != null) {
            spark.stop();
        }
    }

    @Test
    void newRunsAreAppendedAndRecordedRunsReplacedNeverDuplicated() {
        spark = SparkSessions.create("result-table", "local[1]");
        Warehouse warehouse = new Warehouse(out);
        ResultTable results = new ResultTable(spark, warehouse);
        assertEquals(Map.of(), results.statuses(SETTINGS));

        ResultTable.Writer first = results.writer(results.statuses(SETTINGS).keySet());
        first.write(List.of(row("a", 0, "ok", 50.0), row("b", 0, "failed", null)));
        assertEquals("WRITE", lastOperation(warehouse), "new keys are a plain append");
        // Spark hands a task's result over once, but a key this writer stored is merged, not appended again.
        first.write(List.of(row("a", 0, "ok", 51.0)));
        assertEquals("MERGE", lastOperation(warehouse));
        assertEquals(Map.of(key("a", 0), "ok", key("b", 0), "failed"), results.statuses(SETTINGS));

        // A rerun retries the failed run and adds a seed: one replaced row, one appended.
        ResultTable.Writer rerun = results.writer(results.statuses(SETTINGS).keySet());
        rerun.write(List.of(row("b", 0, "ok", 60.0), row("a", 1, "ok", 52.0)));
        assertEquals(List.of("MERGE", "WRITE"), operations(warehouse).subList(0, 2), "newest first: the merge after the append");
        assertEquals(Map.of(key("a", 0), "ok", key("b", 0), "ok", key("a", 1), "ok"), results.statuses(SETTINGS));
        assertEquals(3, results.table().count(), "one row per run");
        assertEquals(List.of(51.0, 52.0, 60.0), results.table().orderBy("value").select("value").collectAsList().stream()
                .map(r -> r.getDouble(0)).toList());
    }

    private static Row row(String checkpoint, long seed, String status, Double value) {
        return RowFactory.create(checkpoint, SETTINGS, "mnist", "linear", seed, "gmp", 0.9, 0.9, "top1", value, value, value,
                status, value == null ? "diverged" : null, 10, 1.0, "cpu()", new Timestamp(0), "test", null, null, null, null, null, null);
    }

    private static String key(String checkpoint, long seed) {
        return ResultTable.key(checkpoint, "mnist", "linear", seed);
    }

    private String lastOperation(Warehouse warehouse) {
        return operations(warehouse).get(0);
    }

    /** The table's commits' operations, newest first. */
    private List<String> operations(Warehouse warehouse) {
        return DeltaTable.forPath(spark, warehouse.transferResults()).history().orderBy(col("version").desc()).select("operation").collectAsList().stream()
                .map(r -> r.getString(0)).toList();
    }
}
