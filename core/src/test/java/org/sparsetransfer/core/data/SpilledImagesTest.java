package org.sparsetransfer.core.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sparsetransfer.core.Synthetic;
import org.sparsetransfer.core.config.ExperimentConfig;
import org.sparsetransfer.core.experiment.TrainedModel;
import org.sparsetransfer.core.experiment.UpstreamExperiment;
import org.sparsetransfer.core.model.Weights;
import org.sparsetransfer.core.prune.MagnitudePruner;
import org.sparsetransfer.core.prune.Mask;
import org.sparsetransfer.core.task.TaskRegistry;
import org.sparsetransfer.core.train.LocalSgd;
import org.sparsetransfer.core.train.TrainingData;
import org.sparsetransfer.core.train.TrainingLoop;
import org.sparsetransfer.core.train.TrainingSchedule;
import org.sparsetransfer.core.vision.Augmentation;
import org.sparsetransfer.core.vision.AugmentedImages;
import org.sparsetransfer.core.vision.Resampling;

/**
 * A split over the data buffer spills to a local file: written in any order, read back as the
 * same bytes, deleted when dropped; and training on spilled shards (a buffer far smaller than
 * the split) learns, keeps its mask exact, and is bitwise the training on the heap.
 */
class SpilledImagesTest {
    @TempDir
    Path dir;

    @Test
    void aWriterOverItsBufferSpillsAndReadsBackTheSameImagesInAnyWriteOrder() throws Exception {
        ImageSet images = Synthetic.squares("s", 50, 9, 4, 0);
        ImageSource heap = write(images, Long.MAX_VALUE, reversed(50));
        ImageSource spilled = write(images, 784 * 3, reversed(50));
        assertTrue(heap instanceof ImageSet, "within the buffer: on the heap");
        assertTrue(spilled instanceof SpilledImages, "over the buffer: in a file");
        Path file = ((SpilledImages) spilled).file();
        assertEquals(dir, file.getParent());
        assertEquals(50L * 784, Files.size(file));
        assertEquals(images, heap);
        assertArrayEquals(images.labels(), spilled.labels());
        assertArrayEquals(images.pixels(), bytes(spilled));
        assertArrayEquals(images.classCounts(), spilled.classCounts());

        ImageSource relabelled = spilled.relabelled("r", 10, java.util.stream.IntStream.range(0, 50).map(i -> i % 10).toArray());
        assertArrayEquals(images.pixels(), bytes(relabelled), "a relabelled view reads the same file");
        assertEquals(10, relabelled.numClasses());
        ((SpilledImages) spilled).delete();
        assertFalse(Files.exists(file), "deleted");
    }

    @Test
    void aDroppedSpilledSetDeletesItsFile() throws Exception {
        Path file = ((SpilledImages) write(Synthetic.squares("s", 20, 9, 4, 0), 1, reversed(20))).file();
        assertTrue(Files.exists(file));
        // Nothing refers to the set any more: the next collections close and delete its file.
        for (int i = 0; i < 100 && Files.exists(file); i++) {
            System.gc();
            Thread.sleep(50);
        }
        assertFalse(Files.exists(file), "a spilled set nobody holds leaves no file behind");
    }

    @Test
    void anIncompleteOrInconsistentWriteIsRefusedAndLeavesNoFile() throws Exception {
        ImageSet images = Synthetic.squares("s", 5, 9, 4, 0);
        ImageWriter writer = new ImageWriter("s", 5, 1, dir);
        byte[] one = new byte[784];
        images.read(0, one, 0);
        writer.put(3, 1, 9, 1, 28, 28, one);
        IllegalStateException missing = assertThrows(IllegalStateException.class, writer::finish);
        assertTrue(missing.getMessage().contains("image 0 of 5 was never written"), missing.getMessage());
        assertThrows(IllegalArgumentException.class, () -> writer.put(3, 1, 9, 1, 28, 28, one), "written twice");
        IllegalStateException size = assertThrows(IllegalStateException.class, () -> writer.put(1, 1, 9, 1, 14, 56, one));
        assertTrue(size.getMessage().contains("1x14x56 raw of 9 classes after images of 1x28x28 raw"), size.getMessage());
        writer.close();
        try (var left = Files.list(dir)) {
            assertEquals(0, left.count(), "an abandoned write deletes its file");
        }
    }

    @Test
    void augmentedAndUnaugmentedBatchesOfASpilledSetAreTheHeapSetsFloats() throws Exception {
        SplittableRandom random = new SplittableRandom(3);
        byte[] pixels = new byte[12 * 3 * 20 * 20];
        for (int i = 0; i < pixels.length; i++) {
            pixels[i] = (byte) random.nextInt(256);
        }
        ImageSet rgb = new ImageSet("rgb", 3, 20, 20, 4, pixels, random.ints(12, 0, 4).toArray());
        ImageSource spilled = write(rgb, 1, reversed(12));
        ImageSet gray = Synthetic.squares("g", 12, 9, 5, 0);
        ImageSource grayScaled = write(gray, 1, reversed(12));
        long[] batch = {7, 2, 11, 2};
        try (NDManager manager = NDManager.newBaseManager(Device.cpu());
                TrainingData a = new AugmentedImages(manager, rgb, 16, Resampling.Filter.BILINEAR, Augmentation.Normalization.IMAGENET);
                TrainingData b = new AugmentedImages(manager, spilled, 16, Resampling.Filter.BILINEAR, Augmentation.Normalization.IMAGENET);
                TrainingData c = TrainingData.upload(manager, gray);
                TrainingData d = TrainingData.upload(manager, grayScaled)) {
            assertSame(a.batch(batch, 5, 1), b.batch(batch, 5, 1));
            assertSame(a.range(3, 9), b.range(3, 9));
            assertSame(c.batch(batch, 5, 1), d.batch(batch, 5, 1));
            assertSame(c.range(3, 9), d.range(3, 9));
        }
    }

    /** Two workers on shards spilled with a one-byte buffer learn, keep the mask exact, and match the heap run bit for bit. */
    @Test
    void trainingOnShardsFarLargerThanTheBufferLearnsKeepsItsMaskAndMatchesTheHeap() throws Exception {
        ExperimentConfig config = new ExperimentConfig();
        config.upstream.epochs = 4;
        config.upstream.batchSize = 32;
        ImageSet train = Synthetic.squares("up", 600, 9, 1, 0);
        TaskRegistry.Splits splits = new TaskRegistry.Splits(train, Synthetic.squares("up", 200, 9, 2, 0),
                Synthetic.squares("up", 200, 9, 3, 0));
        UpstreamExperiment experiment = new UpstreamExperiment(config, splits, Device.cpu());
        Weights start = experiment.initialWeights();
        TrainingSchedule schedule = org.sparsetransfer.core.train.DataParallelTest.pruningAt(experiment.schedules().denseSchedule(),
                java.util.Map.of(20, 0.5));
        List<ImageSet> heap = List.of(train.subset("s0", every(0, 600)), train.subset("s1", every(1, 600)));
        List<ImageSource> spilled = List.of(write(heap.get(0), 1, reversed(300)), write(heap.get(1), 1, reversed(300)));
        assertTrue(spilled.stream().allMatch(s -> s instanceof SpilledImages));
        LocalSgd.Result onDisk = train(experiment, spilled, schedule, start);
        LocalSgd.Result inMemory = train(experiment, heap, schedule, start);
        assertEquals(inMemory.weights(), onDisk.weights(), "the same images give the same training, bit for bit");
        assertEquals(inMemory.mask(), onDisk.mask());
        Mask mask = onDisk.mask();
        for (String name : mask.tensorNames()) {
            boolean[] kept = mask.bits(name);
            float[] values = onDisk.weights().get(name).values();
            for (int i = 0; i < kept.length; i++) {
                assertTrue(kept[i] || values[i] == 0f, name + "[" + i + "] stays pruned");
            }
        }
        assertTrue(mask.holds(onDisk.weights()), "Mask.holds agrees");
        assertTrue(!mask.holds(start), "the dense start has nonzero weights where the mask prunes");
        // Scored on spilled validation and test splits too.
        UpstreamExperiment scoring = new UpstreamExperiment(config, new TaskRegistry.Splits(null,
                write((ImageSet) splits.val(), 1, reversed(200)), write((ImageSet) splits.test(), 1, reversed(200))), Device.cpu());
        TrainedModel model = scoring.evaluate(onDisk.weights(), mask, 0, 0, 0, TrainingLoop.Progress.SILENT);
        TrainedModel before = scoring.evaluate(start, experiment.denseMask(start), 0, 0, 0, TrainingLoop.Progress.SILENT);
        assertEquals(0.5, model.sparsity(), 1e-3);
        assertTrue(model.test().top1() > 0.9 && before.test().top1() < 0.5,
                "accuracy rises from " + before.test().top1() + " to " + model.test().top1());
    }

    private static LocalSgd.Result train(UpstreamExperiment experiment, List<? extends ImageSource> shards, TrainingSchedule schedule,
            Weights start) throws Exception {
        return experiment.inProcess(shards, 10, TrainingLoop.Progress.SILENT).train(schedule,
                new MagnitudePruner(MagnitudePruner.Scope.GLOBAL), experiment.schedules().denseSettings(), start, experiment.denseMask(start), null, -1);
    }

    private ImageSource write(ImageSet images, long bufferBytes, int[] order) throws Exception {
        try (ImageWriter writer = new ImageWriter(images.name(), images.size(), bufferBytes, dir)) {
            byte[] one = new byte[images.imageBytes()];
            for (int i : order) {
                images.read(i, one, 0);
                writer.put(i, images.labels()[i], images.numClasses(), images.channels(), images.height(), images.width(), one.clone());
            }
            return writer.finish();
        }
    }

    private static void assertSame(NDArray[] expected, NDArray[] actual) {
        assertArrayEquals(expected[0].toFloatArray(), actual[0].toFloatArray());
        assertArrayEquals(expected[1].toLongArray(), actual[1].toLongArray());
    }

    private static byte[] bytes(ImageSource images) {
        byte[] all = new byte[images.size() * images.imageBytes()];
        for (int i = 0; i < images.size(); i++) {
            images.read(i, all, i * images.imageBytes());
        }
        return all;
    }

    private static int[] reversed(int n) {
        return java.util.stream.IntStream.range(0, n).map(i -> n - 1 - i).toArray();
    }

    private static int[] every(int first, int n) {
        return java.util.stream.IntStream.iterate(first, i -> i < n, i -> i + 2).toArray();
    }
}
