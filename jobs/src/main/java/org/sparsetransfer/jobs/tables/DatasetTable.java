package org.sparsetransfer.jobs.tables;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.sparsetransfer.core.InvalidInputException;
import org.sparsetransfer.core.data.ImageSet;

/**
 * The ingested datasets: one row per image (dataset, split, idx, label, shape, pixels),
 * partitioned by dataset. A dataset is replaced as a whole, in one commit, so a reader never
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

    private final SparkSession spark;
    private final String path;

    public DatasetTable(SparkSession spark, Warehouse warehouse) {
        this.spark = spark;
        this.path = warehouse.datasets();
    }

    /** Whether {@code dataset} is present and was built by the split rules {@code dataHash}. */
    public boolean has(String dataset, String dataHash) {
        if (!DeltaTables.exists(spark, path)) {
            return false;
        }
        return !spark.read().format("delta").load(path)
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
        DeltaTables.ensure(spark, path, SCHEMA, "dataset");
        spark.createDataFrame(rows, SCHEMA)
                .repartition(Math.max(1, rows.size() / 20_000))
                .write().format("delta").mode("overwrite")
                .option("replaceWhere", "dataset = '" + dataset + "'")
                .save(path);
    }

    /** One split of an ingested dataset, in its stored order. */
    public ImageSet read(String dataset, String split) {
        if (!DeltaTables.exists(spark, path)) {
            throw new InvalidInputException("No datasets table under " + path + "; run the ingest command first");
        }
        List<Row> rows = spark.read().format("delta").load(path)
                .where(col("dataset").equalTo(lit(dataset)).and(col("split").equalTo(lit(split))))
                .select("idx", "label", "num_classes", "height", "width", "pixels")
                .orderBy("idx")
                .collectAsList();
        if (rows.isEmpty()) {
            throw new InvalidInputException("Dataset " + dataset + "/" + split + " is not in " + path
                    + "; run the ingest command with this config first");
        }
        Row first = rows.get(0);
        int height = first.getInt(3);
        int width = first.getInt(4);
        int n = height * width;
        byte[] pixels = new byte[rows.size() * n];
        int[] labels = new int[rows.size()];
        for (int i = 0; i < rows.size(); i++) {
            Row r = rows.get(i);
            labels[i] = r.getInt(1);
            System.arraycopy((byte[]) r.get(5), 0, pixels, i * n, n);
        }
        return new ImageSet(dataset, height, width, first.getInt(2), pixels, labels);
    }
}
