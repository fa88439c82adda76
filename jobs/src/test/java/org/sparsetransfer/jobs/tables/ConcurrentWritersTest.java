package org.sparsetransfer.jobs.tables;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sparsetransfer.core.InvalidInputException;
import org.sparsetransfer.core.config.ConfigLoader;
import org.sparsetransfer.core.config.ExperimentConfig;
import org.sparsetransfer.core.method.PruningMethod;
import org.sparsetransfer.core.method.PruningMethods;
import org.sparsetransfer.jobs.spark.SparkSessions;
import org.sparsetransfer.jobs.stages.Pipeline;
import org.sparsetransfer.jobs.stages.PruneStage;

/** Runs of different parts of one warehouse at once: per-part locks and conflict-retrying Delta writes. */
class ConcurrentWritersTest {
    @TempDir
    Path out;

    @Test
    void pruneRunsOfDifferentMethodsMayOverlapButNotWithThePipeline() {
        Warehouse warehouse = new Warehouse(out);
        ExperimentConfig config = ConfigLoader.embeddedDemo();
        try (WarehouseLock imp = WarehouseLock.acquire(warehouse, "prune", List.of(PruneStage.lockScope(PruningMethods.byKey("imp", "test"))))) {
            assertDoesNotThrow(() -> WarehouseLock.acquire(warehouse, "prune", List.of(PruneStage.lockScope(PruningMethods.byKey("colt", "test")))).close());
            assertDoesNotThrow(() -> WarehouseLock.acquire(warehouse, "transfer", List.of("transfer")).close());

            InvalidInputException busy = assertThrows(InvalidInputException.class,
                    () -> WarehouseLock.acquire(warehouse, "pipeline", Pipeline.lockScopes(config)));
            assertTrue(busy.getMessage().contains("in use by another sparse-transfer run for prune-imp (command prune, pid "),
                    busy.getMessage());
            // The failed attempt released what it had taken before reaching prune-imp.
            assertDoesNotThrow(() -> WarehouseLock.acquire(warehouse, "ingest", List.of("ingest")).close());
        }
        assertDoesNotThrow(() -> WarehouseLock.acquire(warehouse, "pipeline", Pipeline.lockScopes(config)).close());
    }

    @Test
    void concurrentMergesIntoOneTableAllLand() throws Exception {
        StructType schema = new StructType().add("id", DataTypes.StringType).add("writer", DataTypes.IntegerType);
        String path = out.resolve("shared").toString();
        int writers = 4;
        int batches = 2;
        SparkSession spark = SparkSessions.create("concurrent-writers", "local[2]");
        ExecutorService pool = Executors.newFixedThreadPool(writers);
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<?>> done = new ArrayList<>();
            for (int w = 0; w < writers; w++) {
                int writer = w;
                done.add(pool.submit(() -> {
                    start.await();
                    for (int b = 0; b < batches; b++) {
                        Row row = RowFactory.create("w" + writer + "-b" + b, writer);
                        // The first merges race to create the table, the rest to commit into it.
                        DeltaTables.merge(spark, path, schema, spark.createDataFrame(List.of(row), schema), List.of("id"));
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> f : done) {
                f.get();
            }
            assertEquals(writers * batches, spark.read().format("delta").load(path).select("id").distinct().count());
            assertEquals(writers * batches, spark.read().format("delta").load(path).count());
        } finally {
            pool.shutdownNow();
            spark.stop();
        }
    }

    /**
     * Replays the race the test above hits only now and then: another run has made the table's
     * {@code _delta_log} folder but not yet committed to it, which Delta can neither read nor
     * create a table in. The write waits for that run's commit; a location holding other files fails at once,
     * and a creation that never commits is named with its fix.
     */
    @Test
    void aTableAnotherRunIsCreatingIsWaitedForButForeignOrStaleLocationsFail() throws Exception {
        StructType schema = new StructType().add("id", DataTypes.StringType);
        Path target = out.resolve("shared");
        Path elsewhere = out.resolve("elsewhere");
        Path foreign = out.resolve("foreign");
        SparkSession spark = SparkSessions.create("creation-race", "local[1]");
        ExecutorService otherRun = Executors.newSingleThreadExecutor();
        try {
            DeltaTables.ensure(spark, elsewhere.toString(), schema);
            Path firstCommit = elsewhere.resolve("_delta_log").resolve("00000000000000000000.json");
            Files.createDirectories(target.resolve("_delta_log"));
            Future<?> commits = otherRun.submit(() -> {
                Thread.sleep(400);
                return Files.copy(firstCommit, target.resolve("_delta_log").resolve(firstCommit.getFileName()));
            });

            Row row = RowFactory.create("a");
            DeltaTables.merge(spark, target.toString(), schema, spark.createDataFrame(List.of(row), schema), List.of("id"));
            commits.get();
            assertEquals(List.of(row), spark.read().format("delta").load(target.toString()).collectAsList());
            // Version 0 is the other run's creation; the merge committed after it, not in place of it.
            assertEquals(1, DeltaTables.version(spark, target.toString()));

            Files.createDirectories(foreign);
            Files.writeString(foreign.resolve("notes.txt"), "not a table");
            Exception refused = assertThrows(Exception.class, () -> DeltaTables.ensure(spark, foreign.toString(), schema));
            // Delta's own error, not the one after retries, and nothing written beside the foreign file.
            assertTrue(refused.getMessage().contains(foreign + "` is not a Delta table"), refused.getMessage());
            assertArrayEquals(new String[] {"notes.txt"}, foreign.toFile().list());

            // A creation killed before its commit leaves an empty _delta_log: after the retries, the fix is named.
            Path killed = out.resolve("killed");
            Files.createDirectories(killed.resolve("_delta_log"));
            IllegalStateException stale = assertThrows(IllegalStateException.class,
                    () -> DeltaTables.ensure(spark, killed.toString(), schema, 2));
            assertTrue(stale.getMessage().contains("delete " + killed.resolve("_delta_log") + " and run again"), stale.getMessage());
        } finally {
            otherRun.shutdownNow();
            spark.stop();
        }
    }
}
