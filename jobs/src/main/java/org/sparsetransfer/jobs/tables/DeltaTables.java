package org.sparsetransfer.jobs.tables;

import io.delta.exceptions.DeltaConcurrentModificationException;
import io.delta.tables.DeltaTable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Collectors;
import org.apache.hadoop.fs.Path;
import org.apache.spark.SparkThrowable;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.sparsetransfer.core.InvalidInputException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Creating Delta tables and writing to them idempotently. */
public final class DeltaTables {
    /** Attempts of a write that meets concurrent writers (runs of other parts of the warehouse). */
    static final int WRITE_ATTEMPTS = 8;
    /** Delta's errors for a table whose {@code _delta_log} folder exists but has no commit yet. */
    private static final Set<String> CREATION_IN_PROGRESS =
            Set.of("DELTA_CREATE_TABLE_WITH_NON_EMPTY_LOCATION", "DELTA_TABLE_NOT_FOUND");
    private static final Logger LOG = LoggerFactory.getLogger(DeltaTables.class);

    private DeltaTables() {}

    /**
     * Creates the table at {@code path} with {@code schema} unless it exists. Deletion vectors
     * stay off so that a snapshot's data files hold exactly its rows (executors read them, see
     * {@link TableFiles}).
     *
     * <p>Two runs may create the same table at once. The second can then find the first's
     * {@code _delta_log} folder before the first commit is in it. Delta then either takes the
     * table for existing and fails to read it, or refuses to create a table in a non-empty
     * location. Both cases wait a moment and try again, by when the first run has committed.
     * A location that holds other files fails at once; a folder still without a commit after
     * the last attempt (a creation that was killed) fails with an error naming it.
     */
    public static DeltaTable ensure(SparkSession spark, String path, StructType schema, String... partitionColumns) {
        return ensure(spark, path, schema, WRITE_ATTEMPTS, partitionColumns);
    }

    /** As {@link #ensure(SparkSession, String, StructType, String...)}, giving up after {@code attempts}. */
    static DeltaTable ensure(SparkSession spark, String path, StructType schema, int attempts, String... partitionColumns) {
        Path log = new Path(path, "_delta_log");
        for (int attempt = 1; ; attempt++) {
            try {
                DeltaTable table = DeltaTable.createIfNotExists(spark)
                        .location(path)
                        .addColumns(schema)
                        .property("delta.enableDeletionVectors", "false")
                        .partitionedBy(partitionColumns)
                        .execute();
                // A table whose columns changed must be read anew: Delta refuses writes through the old handle.
                return addMissingColumns(spark, path, table, schema) ? DeltaTable.forPath(spark, path) : table;
            } catch (Exception e) { // Delta's AnalysisException is checked in Java's eyes but undeclared
                if (!isCreationInProgress(spark, log, e)) {
                    throw e;
                }
                if (attempt == attempts) {
                    throw new IllegalStateException(path + " has a _delta_log folder but still no table in it. If no other run "
                            + "is creating the table, the folder is left over from a creation that was killed: delete "
                            + log + " and run again", e);
                }
                LOG.warn("{} is being created by another run; trying again, attempt {} of {}", path, attempt + 1, attempts);
                backOff(attempt);
            }
        }
    }

    /**
     * Adds the columns of {@code schema} that a table written by an earlier version of the
     * project lacks, and says whether there were any (new columns are nullable: its old rows read them as null). Readers of an
     * earlier version's rows handle the nulls; time travel to an old version reads its old schema.
     */
    private static boolean addMissingColumns(SparkSession spark, String path, DeltaTable table, StructType schema) {
        Set<String> present = Set.of(table.toDF().schema().fieldNames());
        List<String> missing = new java.util.ArrayList<>();
        for (StructField field : schema.fields()) {
            if (!present.contains(field.name())) {
                if (!field.nullable()) {
                    throw new IllegalStateException("Table " + path + " lacks column " + field.name()
                            + ", which cannot be added to existing rows because it is not nullable");
                }
                missing.add("`" + field.name() + "` " + field.dataType().sql());
            }
        }
        if (!missing.isEmpty()) {
            LOG.warn("{} was written by an earlier version; adding its new columns {}", path, missing);
            spark.sql("ALTER TABLE delta.`" + path + "` ADD COLUMNS (" + String.join(", ", missing) + ")");
        }
        return !missing.isEmpty();
    }

    /** Whether {@code e} is Delta failing on a table whose {@code log} folder exists without a commit. */
    private static boolean isCreationInProgress(SparkSession spark, Path log, Exception e) {
        if (!(e instanceof SparkThrowable t) || !CREATION_IN_PROGRESS.contains(t.getCondition())) {
            return false;
        }
        try {
            return log.getFileSystem(spark.sparkContext().hadoopConfiguration()).exists(log);
        } catch (IOException io) {
            throw new UncheckedIOException("Checking " + log + " failed", io);
        }
    }

    public static boolean exists(SparkSession spark, String path) {
        return onTable(path, () -> DeltaTable.isDeltaTable(spark, path));
    }

    /**
     * Runs {@code operation} on the table at {@code path}, turning a damaged Delta log or data
     * file into one clear error that names the table ({@link StorageFaults}).
     */
    static <T> T onTable(String path, java.util.function.Supplier<T> operation) {
        try {
            return operation.get();
        } catch (Exception e) { // Delta's log errors include checked ones (DeltaFileNotFoundException)
            InvalidInputException explained = StorageFaults.explainLog(path, e);
            if (explained != null) {
                throw explained;
            }
            throw DeltaTables.<RuntimeException>sneaky(e);
        }
    }

    /** Rethrows {@code e} unchanged, checked or not (Scala code throws checked exceptions Java cannot declare). */
    @SuppressWarnings("unchecked")
    private static <E extends Exception> E sneaky(Exception e) throws E {
        throw (E) e;
    }

    /**
     * Upserts {@code rows} keyed by {@code keys}: a row whose key exists replaces it, others are
     * inserted. Running it twice, or after a retried task, leaves exactly one row per key. A
     * conflict with a concurrent writer (another run's MERGE into the same table, or its creation
     * of the table) is retried after a short random wait: the key makes the retry idempotent.
     */
    public static void merge(SparkSession spark, String path, StructType schema, Dataset<Row> rows, List<String> keys) {
        String on = keys.stream().map(k -> "t." + k + " = s." + k).collect(Collectors.joining(" AND "));
        retryingConflicts(path, "merge", () -> ensure(spark, path, schema).as("t")
                .merge(rows.as("s"), on)
                .whenMatched().updateAll()
                .whenNotMatched().insertAll()
                .execute());
    }

    /**
     * Appends {@code rows}: one commit that neither reads nor rewrites the table's files, so far
     * cheaper than {@link #merge}, which joins the rows with the whole table.
     * Only for rows whose keys the caller knows are absent; a failed commit adds nothing, and a
     * conflict (only the table's creation by another run) is retried.
     */
    public static void append(SparkSession spark, String path, StructType schema, Dataset<Row> rows) {
        retryingConflicts(path, "append", () -> {
            ensure(spark, path, schema);
            rows.write().format("delta").mode("append").save(path);
        });
    }

    private static void retryingConflicts(String path, String operation, Runnable write) {
        for (int attempt = 1; ; attempt++) {
            try {
                write.run();
                return;
            } catch (DeltaConcurrentModificationException conflict) {
                if (attempt == WRITE_ATTEMPTS) {
                    throw conflict;
                }
                LOG.warn("{} was written concurrently by another run ({}); retrying the {}, attempt {} of {}",
                        path, conflict.getClass().getSimpleName(), operation, attempt + 1, WRITE_ATTEMPTS);
                backOff(attempt);
            }
        }
    }

    private static void backOff(int attempt) {
        try {
            Thread.sleep(ThreadLocalRandom.current().nextLong(100, 200L << Math.min(attempt, 5)));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while retrying a Delta write", e);
        }
    }

    /** Reads the table, or an empty frame with {@code schema} if it does not exist yet. */
    public static Dataset<Row> read(SparkSession spark, String path, StructType schema) {
        return read(spark, path, schema, null);
    }

    /**
     * As {@link #read(SparkSession, String, StructType)}, at {@code version} (time travel) unless
     * null. Columns of {@code schema} that the stored version lacks (it was written by an earlier
     * version of the project) read as null.
     */
    public static Dataset<Row> read(SparkSession spark, String path, StructType schema, Long version) {
        if (version != null && version < 0 || !exists(spark, path)) {
            return spark.createDataFrame(List.of(), schema);
        }
        Dataset<Row> stored = onTable(path, () -> version == null ? spark.read().format("delta").load(path)
                : spark.read().format("delta").option("versionAsOf", version).load(path));
        Set<String> present = Set.of(stored.schema().fieldNames());
        for (StructField field : schema.fields()) {
            if (!present.contains(field.name())) {
                stored = stored.withColumn(field.name(), org.apache.spark.sql.functions.lit(null).cast(field.dataType()));
            }
        }
        return stored;
    }

    /** The table's Delta id (fixed at its creation), or null if it does not exist. */
    public static String tableId(SparkSession spark, String path) {
        if (!exists(spark, path)) {
            return null;
        }
        return onTable(path, () -> DeltaTable.forPath(spark, path).detail().select("id").first().getString(0));
    }

    /** The table's latest version, or -1 if it does not exist. */
    public static long version(SparkSession spark, String path) {
        if (!exists(spark, path)) {
            return -1;
        }
        return onTable(path, () -> DeltaTable.forPath(spark, path).history(1).select("version").first().getLong(0));
    }
}
