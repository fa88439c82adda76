package org.sparsetransfer.jobs.stages;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.sparsetransfer.core.config.ConfigLoader;
import org.sparsetransfer.core.config.ExperimentConfig;
import org.sparsetransfer.core.data.ImageSet;
import org.sparsetransfer.core.prune.Colt;
import org.sparsetransfer.core.train.DataParallelPlan;
import org.sparsetransfer.jobs.spark.SparkSessions;
import org.sparsetransfer.jobs.tables.DatasetTable;
import org.sparsetransfer.jobs.tables.Warehouse;

/**
 * Training tasks read the upstream rows from the datasets table's files themselves: a split in
 * its stored order, and a data-parallel worker exactly its shard (of the split or of a COLT
 * segment), the same images the shard of the whole split held in memory would have.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class UpstreamDataTest {
    private static final int TRAIN = 101;
    private static final int CLASSES = 7;

    @TempDir
    static Path out;
    private SparkSession spark;
    private ImageSet train;
    private UpstreamData data;

    @BeforeAll
    void storeADatasetInSeveralFiles() {
        spark = SparkSessions.create("upstream-data", "local[2]");
        Random random = new Random(7);
        byte[] pixels = new byte[TRAIN * 3 * 4 * 4];
        random.nextBytes(pixels);
        int[] labels = random.ints(TRAIN, 0, CLASSES).toArray();
        labels[0] = CLASSES - 1; // every class range of the segments below is non-empty
        train = new ImageSet("d", 3, 4, 4, CLASSES, pixels, labels);
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < TRAIN; i++) {
            byte[] px = java.util.Arrays.copyOfRange(pixels, i * 48, (i + 1) * 48);
            rows.add(RowFactory.create("d", "train", i, labels[i], CLASSES, 4, 4, px, "h"));
            if (i < 10) {
                rows.add(RowFactory.create("d", i < 5 ? "val" : "test", i, labels[i], CLASSES, 4, 4, px, "h"));
            }
        }
        DatasetTable table = new DatasetTable(spark, new Warehouse(out));
        // Shuffled over three files, so that every read assembles rows from several files.
        table.replace("d", spark.createDataFrame(rows, DatasetTable.SCHEMA).repartition(3));
        List<String> files = table.files("d");
        assertEquals(3, files.size(), "three data files");
        Map<String, Long> counts = table.splitCounts("d");
        data = new UpstreamData("d", files, counts.get("train"), counts.get("val"), counts.get("test"));
    }

    @AfterAll
    void stop() {
        spark.stop();
    }

    @Test
    void aSplitIsReadFromTheFilesInItsStoredOrder() throws Exception {
        ImageSet read = data.splits().train();
        assertArrayEquals(train.labels(), read.labels());
        assertArrayEquals(train.pixels(), read.pixels());
        assertEquals(5, data.splits().val().size());
        DatasetTable.SplitIndex index = DatasetTable.readIndex("d", "train", data.files());
        assertArrayEquals(train.labels(), index.labels(), "the index reads labels without the images");
        assertEquals(CLASSES, index.numClasses());
    }

    @Test
    void eachWorkerReadsExactlyItsShardAndTheShardsCoverTheSplitOnce() throws Exception {
        int workers = 3;
        int covered = 0;
        for (int w = 0; w < workers; w++) {
            ImageSet shard = UpstreamData.TrainingRows.wholeSplit(data).shard(w, workers);
            ImageSet expected = train.subset("expected", DataParallelPlan.shard(TRAIN, workers, w));
            assertArrayEquals(expected.labels(), shard.labels(), "worker " + w);
            assertArrayEquals(expected.pixels(), shard.pixels(), "worker " + w);
            covered += shard.size();
        }
        assertEquals(TRAIN, covered);
    }

    @Test
    void aWorkerOfAColtSegmentReadsItsShareOfThatSegment() throws Exception {
        for (String split : List.of("classes", "random")) {
            ExperimentConfig config = ConfigLoader.load(Path.of("../conf/tiny.yaml"));
            config.pruning.colt.split = split;
            List<ImageSet> segments = Colt.segments(train, config.pruning.colt.segments, split.equals("classes"), config.data.splitSeed);
            for (int k = 0; k < segments.size(); k++) {
                int total = 0;
                for (int w = 0; w < 2; w++) {
                    ImageSet shard = UpstreamData.TrainingRows.coltSegment(data, config, k).shard(w, 2);
                    ImageSet expected = segments.get(k).subset("expected", DataParallelPlan.shard(segments.get(k).size(), 2, w));
                    assertEquals(expected.numClasses(), shard.numClasses(), split + " segment " + k);
                    assertArrayEquals(expected.labels(), shard.labels(), split + " segment " + k + " worker " + w);
                    assertArrayEquals(expected.pixels(), shard.pixels(), split + " segment " + k + " worker " + w);
                    total += shard.size();
                }
                assertEquals(segments.get(k).size(), total);
                assertTrue(total > 0);
            }
        }
    }
}
