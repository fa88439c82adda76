package org.sparsetransfer.jobs.tables;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.file.Path;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sparsetransfer.jobs.spark.SparkSessions;

/** Tables written by an older version of the project gain the columns added since, keeping their rows. */
class DeltaTablesTest {
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
    void aTableWithoutANewNullableColumnGainsItAndKeepsItsRows() {
        spark = SparkSessions.create("delta-tables", "local[1]");
        String path = out.resolve("t").toString();
        StructType old = new StructType().add("id", DataTypes.StringType, false).add("value", DataTypes.IntegerType, false);
        StructType current = old.add("software_version", DataTypes.StringType, true);
        DeltaTables.append(spark, path, old, spark.createDataFrame(List.of(RowFactory.create("a", 1), RowFactory.create("c", 4)), old));
        long oldVersion = DeltaTables.version(spark, path);

        DeltaTables.append(spark, path, current, spark.createDataFrame(List.of(RowFactory.create("b", 2, "v2")), current));
        DeltaTables.merge(spark, path, current, spark.createDataFrame(List.of(RowFactory.create("a", 3, "v2")), current), List.of("id"));

        List<Row> rows = DeltaTables.read(spark, path, current).orderBy("id").collectAsList();
        assertEquals(List.of("a", "b", "c"), rows.stream().map(r -> r.getString(0)).toList());
        assertEquals(3, rows.get(0).getInt(1));
        assertEquals("v2", rows.get(0).getString(2));
        assertNull(rows.get(2).get(2), "an old row reads the new column as null");
        assertEquals(4, rows.get(2).getInt(1));
        Row asWritten = DeltaTables.read(spark, path, current, oldVersion).orderBy("id").first();
        assertEquals(1, asWritten.getInt(1), "time travel reads the old rows");
        assertNull(asWritten.get(2), "and the column they lack as null");
    }
}
