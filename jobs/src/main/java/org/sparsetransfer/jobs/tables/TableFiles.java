package org.sparsetransfer.jobs.tables;

import static org.apache.spark.sql.functions.col;

import java.io.IOException;
import java.net.URI;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.filter2.compat.FilterCompat;
import org.apache.parquet.filter2.predicate.FilterApi;
import org.apache.parquet.io.api.Binary;
import org.apache.parquet.hadoop.ParquetReader;
import org.apache.parquet.hadoop.api.InitContext;
import org.apache.parquet.hadoop.example.GroupReadSupport;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.Type;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.sparsetransfer.core.InvalidInputException;

/**
 * Lets executors read a Delta table's rows themselves. The driver resolves which Parquet files
 * of the current snapshot hold the rows a task needs (a metadata-only query) and ships the
 * paths; the task reads those files directly. Delta never modifies a data file, so a path
 * always names the same rows, and a snapshot's files are exactly its rows as long as the
 * table has no deletion vectors, which {@link #requirePlainFiles} checks.
 */
public final class TableFiles {
    private TableFiles() {}

    /** The data files holding the rows of {@code rows} (a filtered read of one Delta table), by {@code keyColumn}. */
    public static Map<String, List<String>> byKey(Dataset<Row> rows, String keyColumn) {
        Map<String, List<String>> files = new TreeMap<>();
        for (Row r : rows.select(col(keyColumn), col("_metadata.file_path")).distinct().collectAsList()) {
            files.computeIfAbsent(r.getString(0), k -> new ArrayList<>()).add(r.getString(1));
        }
        files.values().forEach(Collections::sort);
        return files;
    }

    /** Fails when the table at {@code path} uses deletion vectors, whose deleted rows its files still hold. */
    public static void requirePlainFiles(SparkSession spark, String path) {
        Row detail = io.delta.tables.DeltaTable.forPath(spark, path).detail().select("properties").first();
        Map<String, String> properties = detail.getJavaMap(0);
        if ("true".equalsIgnoreCase(properties.get("delta.enableDeletionVectors"))) {
            throw new InvalidInputException("Delta table " + path + " has deletion vectors enabled, so executors cannot read its "
                    + "files directly; run ALTER TABLE delta.`" + path + "` SET TBLPROPERTIES ('delta.enableDeletionVectors' = false) "
                    + "and REORG TABLE delta.`" + path + "` APPLY (PURGE)");
        }
    }

    /**
     * Calls {@code action} on every row of one Parquet data file whose string column
     * {@code column} equals {@code value} (on an executor or the driver). The reader applies the
     * filter, so row groups whose statistics exclude the value are skipped and other rows are
     * never assembled.
     */
    public static void forEachRow(String file, String column, String value, Consumer<Group> action) {
        forEachRow(file, column, value, null, action);
    }

    /**
     * As {@link #forEachRow(String, String, String, Consumer)}, assembling only the named columns
     * (plus {@code column}) of each row: the other columns' pages are never decompressed.
     */
    public static void forEachRow(String file, String column, String value, Set<String> columns, Consumer<Group> action) {
        FilterCompat.Filter filter = FilterCompat.get(FilterApi.eq(FilterApi.binaryColumn(column), Binary.fromString(value)));
        GroupReadSupport support = columns == null ? new GroupReadSupport() : new Projection(columns, column);
        try (ParquetReader<Group> reader = ParquetReader.builder(support, toPath(file))
                .withConf(hadoopConf()).withFilter(filter).build()) {
            for (Group row = read(reader, file); row != null; row = read(reader, file)) {
                action.accept(row);
            }
        } catch (IOException e) {
            throw StorageFaults.unreadable(file, e);
        }
    }

    /** Reads only some columns of a file (those of its schema that are named). */
    private static final class Projection extends GroupReadSupport {
        private final Set<String> columns;

        Projection(Set<String> columns, String filterColumn) {
            this.columns = new HashSet<>(columns);
            this.columns.add(filterColumn);
        }

        @Override
        public ReadContext init(InitContext context) {
            MessageType file = context.getFileSchema();
            List<Type> kept = file.getFields().stream().filter(f -> columns.contains(f.getName())).toList();
            return new ReadContext(new MessageType(file.getName(), kept));
        }
    }

    /** The reader's next row; a file whose checksum or Parquet structure is broken is named as damaged. */
    private static Group read(ParquetReader<Group> reader, String file) throws IOException {
        try {
            return reader.read();
        } catch (IOException | RuntimeException e) {
            throw StorageFaults.unreadable(file, e);
        }
    }

    private static Path toPath(String file) {
        try {
            return new Path(URI.create(file)); // Spark reports file paths URL-encoded
        } catch (IllegalArgumentException notAUri) {
            return new Path(file);
        }
    }

    private static Configuration hadoopConf() {
        return org.sparsetransfer.jobs.storage.Storage.onExecutor().hadoopConf();
    }
}
