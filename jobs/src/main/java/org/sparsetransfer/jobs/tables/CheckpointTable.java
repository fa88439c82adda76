package org.sparsetransfer.jobs.tables;

import static org.apache.spark.sql.functions.col;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.spark.api.java.function.FilterFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.sparsetransfer.core.checkpoint.CheckpointCodec;
import org.sparsetransfer.jobs.stages.CheckpointRecord;

/** The checkpoints table: one row per checkpoint id, written by MERGE so reruns never duplicate. */
public final class CheckpointTable {
    public static final StructType SCHEMA = new StructType()
            .add("id", DataTypes.StringType, false)
            .add("parent_id", DataTypes.StringType, true)
            .add("method", DataTypes.StringType, false)
            .add("stage", DataTypes.StringType, false)
            .add("target_sparsity", DataTypes.DoubleType, false)
            .add("actual_sparsity", DataTypes.DoubleType, false)
            .add("upstream_top1", DataTypes.DoubleType, false)
            .add("upstream_val_top1", DataTypes.DoubleType, false)
            .add("train_steps", DataTypes.IntegerType, false)
            .add("examples_seen", DataTypes.LongType, false)
            .add("wall_s", DataTypes.DoubleType, false)
            .add("prunable_params", DataTypes.LongType, false)
            .add("total_params", DataTypes.LongType, false)
            .add("payload", DataTypes.BinaryType, false)
            .add("payload_bytes", DataTypes.LongType, false)
            .add("checksum", DataTypes.StringType, false)
            .add("experiment", DataTypes.StringType, false)
            .add("created_at", DataTypes.TimestampType, false)
            .add("software_version", DataTypes.StringType, true)
            .add("family", DataTypes.StringType, true)
            .add("source", DataTypes.StringType, true);

    private final SparkSession spark;
    private final String path;
    private final Long version;

    public CheckpointTable(SparkSession spark, Warehouse warehouse) {
        this(spark, warehouse, null);
    }

    /** Reads the table as of {@code version} (time travel), or the latest when null. */
    public CheckpointTable(SparkSession spark, Warehouse warehouse, Long version) {
        this.spark = spark;
        this.path = warehouse.checkpoints();
        this.version = version;
    }

    public void write(List<CheckpointRecord> records) {
        Dataset<Row> rows = spark.createDataFrame(records.stream().map(CheckpointRecord::toRow).toList(), SCHEMA);
        DeltaTables.merge(spark, path, SCHEMA, rows, List.of("id"));
    }

    /** Which of {@code ids} are already stored. */
    public Set<String> existing(Collection<String> ids) {
        if (ids.isEmpty()) {
            return Set.of();
        }
        return table().where(col("id").isin(ids.toArray())).select("id").collectAsList().stream()
                .map(r -> r.getString(0)).collect(Collectors.toSet());
    }

    public Optional<CheckpointRecord> get(String id) {
        List<CheckpointRecord> found = getAll(List.of(id));
        return found.isEmpty() ? Optional.empty() : Optional.of(found.get(0));
    }

    public List<CheckpointRecord> getAll(Collection<String> ids) {
        if (ids.isEmpty()) {
            return List.of();
        }
        return table().where(col("id").isin(ids.toArray())).collectAsList().stream().map(CheckpointRecord::fromRow).toList();
    }

    /** As {@link #getAll}, without the payloads (their weights stay in the table; see {@link #locate}). */
    public List<CheckpointRecord> describe(Collection<String> ids) {
        if (ids.isEmpty()) {
            return List.of();
        }
        return table().where(col("id").isin(ids.toArray())).drop("payload").collectAsList().stream()
                .map(CheckpointRecord::fromRow).toList();
    }

    /**
     * {@link #describe} of every one of {@code ids}, in their order; {@code whenMissing} makes the
     * error (it names what to run) from the ids the table lacks.
     */
    public List<CheckpointRecord> describeAll(List<String> ids, java.util.function.Function<List<String>, RuntimeException> whenMissing) {
        Map<String, CheckpointRecord> found = new java.util.HashMap<>();
        describe(ids).forEach(r -> found.put(r.id(), r));
        List<String> missing = ids.stream().filter(id -> !found.containsKey(id)).toList();
        if (!missing.isEmpty()) {
            throw whenMissing.apply(missing);
        }
        return ids.stream().map(found::get).toList();
    }

    /** The checkpoints imported from the file {@code source} describes ({@link CheckpointRecord#source()}), without payloads. */
    public List<CheckpointRecord> describeBySource(String source) {
        return table().where(col("source").equalTo(source)).drop("payload").collectAsList().stream()
                .map(CheckpointRecord::fromRow).toList();
    }

    /** Where executors find a checkpoint: its id, checksum and the data files that hold its row. */
    public record Location(String id, String checksum, List<String> files) implements java.io.Serializable {}

    /** The locations of {@code ids} in the current snapshot (no payload reaches the driver). */
    public Map<String, Location> locate(Collection<String> ids) {
        Dataset<Row> rows = table().where(col("id").isin(ids.toArray()));
        Map<String, List<String>> files = TableFiles.byKey(rows, "id");
        Map<String, Location> found = new TreeMap<>();
        for (Row r : rows.select("id", "checksum").collectAsList()) {
            found.put(r.getString(0), new Location(r.getString(0), r.getString(1), files.get(r.getString(0))));
        }
        TableFiles.requirePlainFiles(spark, path);
        return found;
    }

    /** Ids among {@code ids} whose payload does not match its checksum, checked on the executors. */
    public List<String> failingChecksum(Collection<String> ids) {
        return table().where(col("id").isin(ids.toArray())).select("id", "payload", "checksum")
                .filter((FilterFunction<Row>) r -> !CheckpointCodec.checksum((byte[]) r.get(1)).equals(r.getString(2)))
                .select("id").collectAsList().stream().map(r -> r.getString(0)).sorted().toList();
    }

    /** A checkpoint's weights and mask, read from its data files (on an executor) and verified. */
    public static CheckpointCodec.Decoded read(Location location) {
        byte[][] payload = new byte[1][];
        for (String file : location.files()) {
            TableFiles.forEachRow(file, "id", location.id(), g -> payload[0] = g.getBinary("payload", 0).getBytes());
        }
        if (payload[0] == null) {
            throw new IllegalStateException("Checkpoint " + location.id() + " is not in " + location.files());
        }
        return CheckpointCodec.decode(payload[0], location.checksum(), location.id());
    }

    public Dataset<Row> table() {
        return DeltaTables.read(spark, path, SCHEMA, version);
    }
}
