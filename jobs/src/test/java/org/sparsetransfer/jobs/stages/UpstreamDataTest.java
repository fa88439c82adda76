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
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import ai.djl.Device;
import org.apache.spark.api.java.JavaSparkContext;
import org.sparsetransfer.core.config.ConfigLoader;
import org.sparsetransfer.core.config.ExperimentConfig;
import org.sparsetransfer.core.data.ImageSet;
import org.sparsetransfer.core.data.ImageSource;
import org.sparsetransfer.core.data.SpilledImages;
import org.sparsetransfer.core.vision.ImageEncoding;
import org.sparsetransfer.core.experiment.TrainedModel;
import org.sparsetransfer.core.experiment.UpstreamExperiment;
import org.sparsetransfer.core.model.Weights;
import org.sparsetransfer.core.method.PruningRun;
import org.sparsetransfer.core.prune.Colt;
import org.sparsetransfer.core.prune.SegmentSplit;
import org.sparsetransfer.core.prune.MagnitudePruner;
import org.sparsetransfer.core.prune.Mask;
import org.sparsetransfer.core.train.TrainingLoop;
import org.sparsetransfer.core.task.TaskRegistry;
import org.sparsetransfer.core.train.DataParallelPlan;
import org.sparsetransfer.jobs.spark.SparkSessions;
import org.sparsetransfer.jobs.tables.DatasetTable;
import org.sparsetransfer.jobs.tables.Warehouse;

/**
 * Training tasks read the upstream rows from the datasets table's files themselves: a split in
 * its stored order, and a data-parallel worker exactly its shard (of the split or of a COLT
 * segment), the same images the shard of the whole split held in memory would have; and an
 * evaluation over parts of the validation and test splits scores exactly as one over each whole split.
 * Reads with a data buffer smaller than their rows spill to a local file and give the same images.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class UpstreamDataTest {
    private static final int TRAIN = 101;
    private static final int VAL = 40;
    private static final int TEST = 41;
    private static final int CLASSES = 7;
    private static final int SIDE = 28;
    private static final int PIXELS = SIDE * SIDE;

    @TempDir
    static Path out;
    private SparkSession spark;
    private ImageSet train;
    private UpstreamData data;
    /** The same table read with a data buffer smaller than two images: every read spills to a local file. */
    private UpstreamData spilling;

    @BeforeAll
    void storeADatasetInSeveralFiles() {
        spark = SparkSessions.create("upstream-data", "local[2]");
        Random random = new Random(7);
        byte[] pixels = new byte[TRAIN * PIXELS];
        random.nextBytes(pixels);
        int[] labels = random.ints(TRAIN, 0, CLASSES).toArray();
        labels[0] = CLASSES - 1; // every class range of the segments below is non-empty
        train = new ImageSet("d", 1, SIDE, SIDE, CLASSES, pixels, labels);
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < TRAIN; i++) {
            byte[] px = java.util.Arrays.copyOfRange(pixels, i * PIXELS, (i + 1) * PIXELS);
            rows.add(DatasetTable.row("d", "train", i, labels[i], CLASSES, SIDE, SIDE, px, ImageEncoding.RAW, "h"));
            if (i < VAL + TEST) {
                rows.add(DatasetTable.row("d", i < VAL ? "val" : "test", i < VAL ? i : i - VAL, labels[i], CLASSES, SIDE, SIDE, px,
                        ImageEncoding.RAW, "h"));
            }
        }
        DatasetTable table = new DatasetTable(spark, new Warehouse(out));
        // Shuffled over three files, so that every read assembles rows from several files.
        table.replace("d", spark.createDataFrame(rows, DatasetTable.SCHEMA).repartition(3));
        List<String> files = table.files("d");
        assertEquals(3, files.size(), "three data files");
        Map<String, Long> counts = table.splitCounts("d");
        data = new UpstreamData("d", files, counts.get("train"), counts.get("val"), counts.get("test"), 1L << 30);
        spilling = new UpstreamData("d", files, counts.get("train"), counts.get("val"), counts.get("test"), PIXELS + 1);
    }

    @AfterAll
    void stop() {
        spark.stop();
    }

    @Test
    void aSplitIsReadFromTheFilesInItsStoredOrder() throws Exception {
        ImageSource read = whole("train", data);
        assertTrue(read instanceof ImageSet, "a split within the buffer is read onto the heap");
        assertArrayEquals(train.labels(), read.labels());
        assertArrayEquals(train.pixels(), pixels(read));
        assertEquals(VAL, whole("val", data).size());
        assertEquals(TEST, whole("test", data).size());
        for (UpstreamData source : List.of(data, spilling)) {
            ImageSource oneWorker = UpstreamData.TrainingRows.wholeSplit(source).shard(0, 1);
            assertArrayEquals(train.labels(), oneWorker.labels(), "one worker's shard is the split in its stored order");
            assertArrayEquals(train.pixels(), pixels(oneWorker));
        }
        DatasetTable.SplitIndex index = DatasetTable.readIndex("d", "train", data.files());
        assertArrayEquals(train.labels(), index.labels(), "the index reads labels without the images");
        assertEquals(CLASSES, index.numClasses());
    }

    @Test
    void aSplitOverTheBufferSpillsToALocalFileThatHoldsTheSameImages() throws Exception {
        ImageSource spilled = whole("train", spilling);
        assertTrue(spilled instanceof SpilledImages, "a split over the buffer spills: " + spilled);
        Path file = ((SpilledImages) spilled).file();
        assertEquals((long) TRAIN * PIXELS, java.nio.file.Files.size(file));
        assertArrayEquals(train.labels(), spilled.labels());
        assertArrayEquals(train.pixels(), pixels(spilled));
        ((SpilledImages) spilled).delete();
        assertTrue(!java.nio.file.Files.exists(file), "deleting a spilled set removes its file");
    }

    @Test
    void eachWorkerReadsExactlyItsShardAndTheShardsCoverTheSplitOnce() throws Exception {
        int workers = 3;
        for (UpstreamData source : List.of(data, spilling)) {
            int covered = 0;
            for (int w = 0; w < workers; w++) {
                ImageSource shard = UpstreamData.TrainingRows.wholeSplit(source).shard(w, workers);
                ImageSet expected = train.subset("expected", DataParallelPlan.shard(TRAIN, workers, w));
                assertArrayEquals(expected.labels(), shard.labels(), "worker " + w);
                assertArrayEquals(expected.pixels(), pixels(shard), "worker " + w);
                covered += shard.size();
            }
            assertEquals(TRAIN, covered);
        }
    }

    @Test
    void aWorkerOfAColtSegmentReadsItsShareOfThatSegment() throws Exception {
        for (SegmentSplit split : SegmentSplit.values()) {
            ExperimentConfig config = ConfigLoader.load(Path.of("../conf/tiny.yaml"));
            int k0 = 2; // COLT's default segments
            List<ImageSource> segments = Colt.segments(train, k0, split == SegmentSplit.CLASSES, config.data.splitSeed);
            // The sizes a COLT recipe in epochs is scheduled with, read from the index alone.
            long[] sizes = data.segmentSizes(UpstreamData.TrainingRows.of(data, PruningRun.Rows.segment(k0, split, 0), config.data.splitSeed));
            assertEquals(segments.size(), sizes.length);
            for (int k = 0; k < segments.size(); k++) {
                assertEquals(segments.get(k).size(), sizes[k], split + " segment " + k + " size");
            }
            for (int k = 0; k < segments.size(); k++) {
                int total = 0;
                for (int w = 0; w < 2; w++) {
                    // Worker 1 reads with a buffer smaller than its shard: a spilled segment carries the segment's labels too.
                    ImageSource shard = UpstreamData.TrainingRows.of(w == 0 ? data : spilling, PruningRun.Rows.segment(k0, split, k),
                            config.data.splitSeed).shard(w, 2);
                    ImageSet expected = ((ImageSet) segments.get(k)).subset("expected",
                            DataParallelPlan.shard(segments.get(k).size(), 2, w));
                    assertEquals(expected.numClasses(), shard.numClasses(), split + " segment " + k);
                    assertArrayEquals(expected.labels(), shard.labels(), split + " segment " + k + " worker " + w);
                    assertArrayEquals(expected.pixels(), pixels(shard), split + " segment " + k + " worker " + w);
                    total += shard.size();
                }
                assertEquals(segments.get(k).size(), total);
                assertTrue(total > 0);
            }
        }
    }

    @Test
    void anEvaluationOverPartsOfTheSplitsScoresExactlyAsOneOverEachWholeSplit() throws Exception {
        ExperimentConfig config = ConfigLoader.load(Path.of("../conf/tiny.yaml"));
        UpstreamExperiment whole = new UpstreamExperiment(config, new TaskRegistry.Splits(null, whole("val", data), whole("test", data)),
                Device.cpu());
        Weights weights = whole.initialWeights();
        Mask mask = MagnitudePruner.of(org.sparsetransfer.core.prune.Criterion.GLOBAL).prune(weights, whole.denseMask(weights), 0.5);
        TrainedModel expected = whole.evaluate(weights, mask, 0, 0, 0.0, TrainingLoop.Progress.SILENT);
        assertEquals(VAL, expected.val().examples());
        assertEquals(TEST, expected.test().examples());
        assertTrue(expected.test().top1() != expected.test().meanPerClass(), "the two metrics differ on these labels: " + expected.test());
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        for (int parts : new int[] {1, 3}) {
            int covered = 0;
            for (int p = 0; p < parts; p++) {
                ImageSource part = data.part("val", p, parts);
                assertArrayEquals(((ImageSet) whole("val", data)).subset("expected", DataParallelPlan.shard(VAL, parts, p)).pixels(),
                        pixels(part));
                covered += part.size();
            }
            assertEquals(VAL, covered);
            // Parts read with a buffer smaller than two images spill, and score the same.
            TrainedModel scored = SplitEvaluation.score(jsc, "evaluation test", config, parts == 1 ? data : spilling, weights, mask,
                    parts, 7, 70L, 1.5);
            assertEquals(expected.val(), scored.val(), parts + " parts");
            assertEquals(expected.test(), scored.test(), parts + " parts");
            assertEquals(7, scored.trainSteps());
            assertEquals(70L, scored.examplesSeen());
            assertEquals(mask, scored.mask());
        }
    }

    /** A whole split as the table's files hold it, in its stored order. */
    private static ImageSource whole(String split, UpstreamData source) throws Exception {
        return DatasetTable.readFiles(source.dataset(), split, source.files(), source.bufferBytes());
    }

    /** Every image's bytes, in order. */
    private static byte[] pixels(ImageSource images) {
        byte[] all = new byte[images.size() * images.imageBytes()];
        for (int i = 0; i < images.size(); i++) {
            images.read(i, all, i * images.imageBytes());
        }
        return all;
    }
}
