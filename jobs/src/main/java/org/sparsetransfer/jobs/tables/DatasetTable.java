package org.sparsetransfer.jobs.tables;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.sparsetransfer.core.InvalidInputException;
import org.sparsetransfer.core.data.ImageSource;
import org.sparsetransfer.core.data.ImageWriter;
import org.sparsetransfer.core.data.SpillDirectory;
import org.sparsetransfer.core.vision.ImageEncoding;

/**
 * The ingested datasets: one row per image (dataset, split, idx, label, shape, pixels, encoding),
 * partitioned by dataset. Raw pixels are channel-planar bytes, whose channel count is their length
 * over height x width (1 for the demo's sets); image datasets' are RGB, stored as
 * {@code data.images.storage} encodes them (JPEG by default) and decoded per batch. A dataset is replaced as a whole, in one commit, so a reader never
 * sees half of one; {@code data_hash} says which split rules produced it.
 */
public final class DatasetTable {
    public static final StructType SCHEMA = new StructType()
            .add("dataset", DataTypes.StringType, false)
            .add("split", DataTypes.StringType, false)
            .add("idx", DataTypes.IntegerType, false)
            .add("label", DataTypes.IntegerType, false)
            .add("num_classes", DataTypes.IntegerType, false)
            .add("height", DataTypes.IntegerType, false)
            .add("width", DataTypes.IntegerType, false)
            .add("pixels", DataTypes.BinaryType, false)
            .add("data_hash", DataTypes.StringType, false)
            // How pixels holds the image (ImageEncoding's key); null in tables written before images were stored encoded: raw.
            .add("encoding", DataTypes.StringType, true);

    /** One row of {@link #SCHEMA}: image {@code idx} of a split, {@code bytes} as {@code encoding} stores it. */
    public static Row row(String dataset, String split, int idx, int label, int numClasses, int height, int width, byte[] bytes,
            ImageEncoding encoding, String dataHash) {
        return RowFactory.create(dataset, split, idx, label, numClasses, height, width, bytes, dataHash, encoding.key());
    }

    /** The image files ingest skipped, per dataset (replaced with the dataset). */
    public static final StructType SKIPPED_SCHEMA = new StructType()
            .add("dataset", DataTypes.StringType, false)
            .add("split", DataTypes.StringType, false)
            .add("file", DataTypes.StringType, false)
            .add("reason", DataTypes.StringType, false)
            .add("data_hash", DataTypes.StringType, false);

    private final SparkSession spark;
    private final String path;
    private final String skippedPath;

    public DatasetTable(SparkSession spark, Warehouse warehouse) {
        this.spark = spark;
        this.path = warehouse.datasets();
        this.skippedPath = warehouse.skippedImages();
    }

    /**
     * Records which image files of {@code dataset} ingest left out and why (none: its earlier
     * entries are cleared). Written right after the dataset's own commit, keyed by dataset, so a
     * rerun of ingest replaces it.
     */
    public void writeSkipped(String dataset, String dataHash, List<org.sparsetransfer.core.vision.IngestPlan.Skipped> skipped) {
        if (skipped.isEmpty() && !DeltaTables.exists(spark, skippedPath)) {
            return;
        }
        List<Row> rows = skipped.stream().map(s -> RowFactory.create(dataset, s.split(), s.file(), s.reason(), dataHash)).toList();
        DeltaTables.ensure(spark, skippedPath, SKIPPED_SCHEMA, "dataset");
        spark.createDataFrame(rows, SKIPPED_SCHEMA).coalesce(1).write().format("delta").mode("overwrite")
                .option("replaceWhere", "dataset = '" + dataset + "'").save(skippedPath);
    }

    /** Whether {@code dataset} is present and was built by the split rules {@code dataHash}. */
    public boolean has(String dataset, String dataHash) {
        if (!DeltaTables.exists(spark, path)) {
            return false;
        }
        return !DeltaTables.read(spark, path, SCHEMA)
                .where(col("dataset").equalTo(lit(dataset)).and(col("data_hash").equalTo(lit(dataHash))))
                .limit(1).isEmpty();
    }

    /** Replaces {@code dataset} with the given splits in one commit. */
    public void write(String dataset, String dataHash, Map<String, ? extends ImageSource> splits) {
        List<Row> rows = new ArrayList<>();
        splits.forEach((split, images) -> {
            for (int i = 0; i < images.size(); i++) {
                byte[] px = new byte[images.imageBytes()];
                images.read(i, px, 0);
                rows.add(row(dataset, split, i, images.labels()[i], images.numClasses(), images.height(), images.width(), px,
                        ImageEncoding.RAW, dataHash));
            }
        });
        replace(dataset, spark.createDataFrame(rows, SCHEMA).repartition(Math.max(1, rows.size() / 20_000)));
    }

    /** Replaces {@code dataset} with {@code rows} (of {@link #SCHEMA}, e.g. decoded on executors) in one commit. */
    public void replace(String dataset, Dataset<Row> rows) {
        DeltaTables.ensure(spark, path, SCHEMA, "dataset");
        rows.write().format("delta").mode("overwrite")
                .option("replaceWhere", "dataset = '" + dataset + "'")
                .save(path);
    }

    /** Images per split of an ingested dataset. */
    public Map<String, Long> splitCounts(String dataset) {
        Map<String, Long> counts = new java.util.TreeMap<>();
        for (Row r : rows(dataset).groupBy("split").count().collectAsList()) {
            counts.put(r.getString(0), r.getLong(1));
        }
        return counts;
    }

    /**
     * The Parquet files holding {@code dataset} in the current snapshot, for executors to read
     * with {@link #readFiles} instead of receiving the images from the driver.
     */
    public List<String> files(String dataset) {
        List<String> files = TableFiles.byKey(rows(dataset), "dataset").get(dataset);
        if (files == null) {
            throw missing(dataset, "any split");
        }
        TableFiles.requirePlainFiles(spark, path);
        return files;
    }

    /**
     * One split of {@code dataset} read straight from its data files (see {@link #files}), in its
     * stored order; held on the heap if it fits {@code bufferBytes}, else spilled to local disk.
     */
    public static ImageSource readFiles(String dataset, String split, List<String> files, long bufferBytes) throws IOException {
        SplitIndex index = readIndex(dataset, split, files);
        return readRows(dataset, split, files, index, java.util.stream.IntStream.range(0, index.size()).toArray(), bufferBytes);
    }

    /**
     * The rows of one split at {@code positions} of its stored order (as {@link #readIndex} gives
     * it), in the order given: a data-parallel worker's shard, read without keeping the rest of
     * the split. Rows stream from the files' row groups into an {@link ImageWriter}, one image at
     * a time: on the heap if the rows fit {@code bufferBytes}, else into a local file
     * ({@link SpillDirectory}), so a task's memory stays bounded for any split size. Encoded
     * images stay encoded (decoded per batch by the input pipeline).
     */
    public static ImageSource readRows(String dataset, String split, List<String> files, SplitIndex index, int[] positions,
            long bufferBytes) throws IOException {
        if (positions.length == 0) {
            throw missing(dataset, split);
        }
        // Where each stored position goes in the result (-1: not wanted); the index is sorted by idx.
        int[] target = new int[index.size()];
        java.util.Arrays.fill(target, -1);
        for (int at = 0; at < positions.length; at++) {
            if (target[positions[at]] >= 0) {
                throw new IllegalArgumentException(dataset + "/" + split + ": position " + positions[at] + " asked for twice");
            }
            target[positions[at]] = at;
        }
        try (ImageWriter writer = new ImageWriter(dataset, positions.length, bufferBytes, SpillDirectory.of("images"))) {
            long[] found = {0};
            for (String file : files) {
                TableFiles.forEachRow(file, "split", split, g -> {
                    int position = java.util.Arrays.binarySearch(index.idx(), g.getInteger("idx", 0));
                    int at = position < 0 ? -1 : target[position];
                    if (at >= 0) {
                        try {
                            ImageEncoding encoding = encoding(g);
                            byte[] bytes = g.getBinary("pixels", 0).getBytes();
                            if (encoding == ImageEncoding.RAW) {
                                writer.put(at, g.getInteger("label", 0), g.getInteger("num_classes", 0), channels(g),
                                        g.getInteger("height", 0), g.getInteger("width", 0), bytes);
                            } else {
                                writer.putEncoded(at, g.getInteger("label", 0), g.getInteger("num_classes", 0), g.getInteger("height", 0),
                                        g.getInteger("width", 0), encoding, bytes);
                            }
                        } catch (IOException e) {
                            throw new java.io.UncheckedIOException("cannot spill images of " + dataset + "/" + split, e);
                        }
                        found[0]++;
                    }
                });
            }
            if (found[0] != positions.length) {
                throw new IllegalStateException(dataset + "/" + split + ": " + found[0] + " of the " + positions.length
                        + " rows in the split's index are in its files; the table changed while it was read");
            }
            return writer.finish();
        }
    }

    /** How a row stores its image: its {@code encoding}, raw in files written before the column. */
    private static ImageEncoding encoding(org.apache.parquet.example.data.Group g) {
        return g.getType().containsField("encoding") && g.getFieldRepetitionCount("encoding") > 0
                ? ImageEncoding.parse(g.getString("encoding", 0), "the datasets table's encoding column") : ImageEncoding.RAW;
    }

    /** A raw image's channel count: its byte length over height x width. */
    private static int channels(org.apache.parquet.example.data.Group g) {
        return g.getBinary("pixels", 0).length() / (g.getInteger("height", 0) * g.getInteger("width", 0));
    }

    /** A split's stored order: its rows' {@code idx} ascending, with their labels; position p is the p-th image. */
    public record SplitIndex(int[] idx, int[] labels, int numClasses) implements java.io.Serializable {
        public int size() {
            return idx.length;
        }
    }

    /** The stored order and labels of one split, read from its files without decoding any image. */
    public static SplitIndex readIndex(String dataset, String split, List<String> files) {
        List<int[]> rows = new ArrayList<>();
        int[] numClasses = {0};
        for (String file : files) {
            TableFiles.forEachRow(file, "split", split, java.util.Set.of("idx", "label", "num_classes"), g -> {
                rows.add(new int[] {g.getInteger("idx", 0), g.getInteger("label", 0)});
                numClasses[0] = g.getInteger("num_classes", 0);
            });
        }
        if (rows.isEmpty()) {
            throw missing(dataset, split);
        }
        rows.sort(Comparator.comparingInt(r -> r[0]));
        return new SplitIndex(rows.stream().mapToInt(r -> r[0]).toArray(), rows.stream().mapToInt(r -> r[1]).toArray(),
                numClasses[0]);
    }

    private Dataset<Row> rows(String dataset) {
        if (!DeltaTables.exists(spark, path)) {
            throw new InvalidInputException("No datasets table under " + path + "; run the ingest command first");
        }
        return DeltaTables.read(spark, path, SCHEMA).where(col("dataset").equalTo(lit(dataset)));
    }

    private static InvalidInputException missing(String dataset, String split) {
        return new InvalidInputException("Dataset " + dataset + "/" + split
                + " is not in the datasets table; run the ingest command with this config first");
    }
}
