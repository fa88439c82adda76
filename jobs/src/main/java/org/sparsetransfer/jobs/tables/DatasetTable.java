package org.sparsetransfer.jobs.tables;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;

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
import org.sparsetransfer.core.data.ImageSet;

/**
 * The ingested datasets: one row per image (dataset, split, idx, label, shape, pixels),
 * partitioned by dataset. Pixels are channel-planar bytes; the channel count is their length
 * over height x width (1 for the demo's sets, 3 for image datasets). A dataset is replaced as a whole, in one commit, so a reader never
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
            .add("data_hash", DataTypes.StringType, false);

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
    public void write(String dataset, String dataHash, Map<String, ImageSet> splits) {
        List<Row> rows = new ArrayList<>();
        splits.forEach((split, images) -> {
            int n = images.imageBytes();
            for (int i = 0; i < images.size(); i++) {
                byte[] px = new byte[n];
                System.arraycopy(images.pixels(), i * n, px, 0, n);
                rows.add(RowFactory.create(dataset, split, i, images.labels()[i], images.numClasses(),
                        images.height(), images.width(), px, dataHash));
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

    /** One split of {@code dataset} read straight from its data files (see {@link #files}), in its stored order. */
    public static ImageSet readFiles(String dataset, String split, List<String> files) {
        List<ImageRow> rows = new ArrayList<>();
        for (String file : files) {
            TableFiles.forEachRow(file, "split", split, g -> rows.add(imageRow(g)));
        }
        rows.sort(Comparator.comparingInt(ImageRow::idx));
        return assemble(dataset, split, rows);
    }

    /**
     * The rows of one split at {@code positions} of its stored order (as {@link #readIndex} gives
     * it), in the order given: a data-parallel worker's shard, read without keeping the rest of
     * the split.
     */
    public static ImageSet readRows(String dataset, String split, List<String> files, SplitIndex index, int[] positions) {
        java.util.HashMap<Integer, Integer> wanted = new java.util.HashMap<>();
        for (int at = 0; at < positions.length; at++) {
            if (wanted.put(index.idx()[positions[at]], at) != null) {
                throw new IllegalArgumentException(dataset + "/" + split + ": position " + positions[at] + " asked for twice");
            }
        }
        ImageRow[] picked = new ImageRow[positions.length];
        for (String file : files) {
            TableFiles.forEachRow(file, "split", split, g -> {
                Integer at = wanted.get(g.getInteger("idx", 0));
                if (at != null) {
                    picked[at] = imageRow(g);
                }
            });
        }
        for (int at = 0; at < picked.length; at++) {
            if (picked[at] == null) {
                throw new IllegalStateException(dataset + "/" + split + ": row idx " + index.idx()[positions[at]]
                        + " is in the split's index but not in its files; the table changed while it was read");
            }
        }
        return assemble(dataset, split, List.of(picked));
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

    private static ImageRow imageRow(org.apache.parquet.example.data.Group g) {
        return new ImageRow(g.getInteger("idx", 0), g.getInteger("label", 0), g.getInteger("num_classes", 0),
                g.getInteger("height", 0), g.getInteger("width", 0), g.getBinary("pixels", 0).getBytes());
    }

    private Dataset<Row> rows(String dataset) {
        if (!DeltaTables.exists(spark, path)) {
            throw new InvalidInputException("No datasets table under " + path + "; run the ingest command first");
        }
        return DeltaTables.read(spark, path, SCHEMA).where(col("dataset").equalTo(lit(dataset)));
    }

    /** One stored image; rows are assembled in list order. */
    private record ImageRow(int idx, int label, int numClasses, int height, int width, byte[] pixels) {}

    private static ImageSet assemble(String dataset, String split, List<ImageRow> rows) {
        if (rows.isEmpty()) {
            throw missing(dataset, split);
        }
        ImageRow first = rows.get(0);
        int n = first.pixels().length;
        byte[] pixels = new byte[ImageSet.byteCount(dataset + "/" + split, rows.size(), n)];
        int[] labels = new int[rows.size()];
        for (int i = 0; i < rows.size(); i++) {
            labels[i] = rows.get(i).label();
            System.arraycopy(rows.get(i).pixels(), 0, pixels, i * n, n);
        }
        return new ImageSet(dataset, n / (first.height() * first.width()), first.height(), first.width(), first.numClasses(),
                pixels, labels);
    }

    private static InvalidInputException missing(String dataset, String split) {
        return new InvalidInputException("Dataset " + dataset + "/" + split
                + " is not in the datasets table; run the ingest command with this config first");
    }
}
