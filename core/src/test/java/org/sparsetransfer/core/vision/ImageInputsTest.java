package org.sparsetransfer.core.vision;

import org.sparsetransfer.core.io.FileSource;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sparsetransfer.core.InvalidInputException;
import org.sparsetransfer.core.config.ExperimentConfig;
import org.sparsetransfer.core.data.ImageSet;
import org.sparsetransfer.core.model.Network;
import org.sparsetransfer.core.model.ResNet;
import org.sparsetransfer.core.model.TorchThreads;
import org.sparsetransfer.core.train.Evaluator;
import org.sparsetransfer.core.train.Objective;
import org.sparsetransfer.core.train.TrainingData;
import org.sparsetransfer.core.train.TrainingLoop;
import org.sparsetransfer.core.train.TrainingSchedule;

/** From image files on disk to network inputs: the ingest plan, stored images, and augmented batches. */
class ImageInputsTest {
    private static final Augmentation.Normalization NORM = Augmentation.Normalization.IMAGENET;

    @TempDir
    Path dir;

    private ExperimentConfig.Images images(int upstreamTrain, int upstreamVal, int classes) {
        ExperimentConfig.Images im = new ExperimentConfig.Images();
        im.upstream = dir.resolve("upstream").toString();
        im.upstreamFormat = "image_folder";
        im.upstreamClasses = classes;
        im.upstreamTrain = upstreamTrain;
        im.upstreamVal = upstreamVal;
        im.tasksRoot = dir.resolve("tasks").toString();
        im.imageSize = 32;
        im.resize = 36;
        return im;
    }

    /** Decodes every unit of {@code plan} as an executor would. */
    private static List<IngestPlan.Stored> decodeAll(IngestPlan plan, int side) {
        List<IngestPlan.Stored> all = new ArrayList<>();
        plan.units().forEach(u -> all.addAll(IngestPlan.decode(FileSource.local(), u, side, Resampling.Filter.BILINEAR, plan.val()).stored()));
        return all;
    }

    private static ImageSet set(List<IngestPlan.Stored> stored, String split, int side, int classes) {
        List<IngestPlan.Stored> in = stored.stream().filter(s -> s.split().equals(split)).toList();
        byte[] pixels = new byte[in.size() * 3 * side * side];
        int[] labels = new int[in.size()];
        for (int i = 0; i < in.size(); i++) {
            System.arraycopy(in.get(i).image().planes(), 0, pixels, i * 3 * side * side, 3 * side * side);
            labels[i] = in.get(i).label();
        }
        return new ImageSet(split, 3, side, side, classes, pixels, labels);
    }

    @Test
    void theUpstreamPlanChecksTheTreeAndHoldsOutASeededValidationSet() {
        SyntheticImages.imageFolder(dir.resolve("upstream"), 4, 10, 3, 40, 30, 7);
        IngestPlan plan = IngestPlan.upstream(FileSource.local(), images(32, 8, 4), 2022);
        assertEquals(Map.of("train", 32, "val", 8, "test", 12), plan.counts());
        assertEquals(52, plan.units().size(), "one unit per image file");
        List<IngestPlan.Stored> stored = decodeAll(plan, 36);
        Map<String, Integer> counts = new TreeMap<>();
        stored.forEach(s -> counts.merge(s.split(), 1, Integer::sum));
        assertEquals(plan.counts(), counts);
        stored.forEach(s -> {
            assertEquals(36, s.image().width());
            assertEquals(36, s.image().height());
        });
        assertArrayEquals(plan.val(), IngestPlan.upstream(FileSource.local(), images(32, 8, 4), 2022).val(), "the hold-out is seeded");
        assertFalse(java.util.Arrays.equals(plan.val(), IngestPlan.upstream(FileSource.local(), images(32, 8, 4), 7).val()));

        String wrongCount = assertThrows(InvalidInputException.class, () -> IngestPlan.upstream(FileSource.local(), images(30, 8, 4), 2022)).getMessage();
        assertTrue(wrongCount.contains("has 40 training images") && wrongCount.contains("set upstream_train to 32"), wrongCount);
        String wrongClasses = assertThrows(InvalidInputException.class, () -> IngestPlan.upstream(FileSource.local(), images(32, 8, 5), 2022)).getMessage();
        assertTrue(wrongClasses.contains("has 4 classes") && wrongClasses.contains("set it to 4"), wrongClasses);
        ExperimentConfig.Images missing = images(32, 8, 4);
        missing.upstream = dir.resolve("nowhere").toString();
        assertTrue(assertThrows(InvalidInputException.class, () -> IngestPlan.upstream(FileSource.local(), missing, 1)).getMessage()
                .contains("Upstream dataset directory not found: " + missing.upstream + " (data.images.upstream)"));
    }

    @Test
    void aCifarTaskIsPlannedFromFileSizesAndDecodedPerBatchFile() {
        SyntheticImages.cifar10(dir.resolve("tasks/cifar10"), 6, 5, 3);
        IngestPlan plan = IngestPlan.task(FileSource.local(), "cifar10", images(32, 8, 4), 2022);
        assertEquals(Map.of("train", 30, "test", 5), plan.counts());
        assertEquals(6, plan.units().size(), "one unit per batch file");
        List<IngestPlan.Stored> stored = decodeAll(plan, 36);
        assertEquals(35, stored.size());
        IngestPlan.Stored third = stored.get(2);
        assertEquals("train", third.split());
        assertEquals(2, third.index());
        assertEquals(2, third.label(), "the record's own label");
        assertEquals(36, third.image().width(), "stored at the evaluation resize");
        assertEquals(6, stored.get(6).index(), "indices continue across batch files");
        assertTrue(assertThrows(InvalidInputException.class, () -> IngestPlan.task(FileSource.local(), "dtd", images(32, 8, 4), 1)).getMessage()
                .contains("Task directory not found"));
    }

    @Test
    void storingKeepsWhatEvaluationSeesOfTheOriginal() {
        RgbImage original = SyntheticImages.image(3, 60, 45, new SplittableRandom(1));
        RgbImage stored = Augmentation.store(original, 36, Resampling.Filter.BILINEAR);
        assertEquals(36, stored.width());
        assertEquals(36, stored.height());
        float[] fromStored = Augmentation.test(stored, 36, 32, Resampling.Filter.BILINEAR, NORM);
        float[] fromOriginal = Augmentation.test(original, 36, 32, Resampling.Filter.BILINEAR, NORM);
        double worst = 0;
        for (int i = 0; i < fromStored.length; i++) {
            worst = Math.max(worst, Math.abs(fromStored[i] - fromOriginal[i]));
        }
        assertTrue(worst < 0.03, "stored then cropped differs from cropping the original by " + worst);
        assertTrue(stored == Augmentation.store(stored, 36, Resampling.Filter.BILINEAR), "an image already of the stored size is kept as it is");
    }

    @Test
    void augmentedBatchesAreSeededPerPassAndEvaluationIsTheCentreCrop() {
        SplittableRandom random = new SplittableRandom(5);
        List<IngestPlan.Stored> stored = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            stored.add(new IngestPlan.Stored("train", i, i % 3, Augmentation.store(SyntheticImages.image(i % 3, 40, 36, random), 36, Resampling.Filter.BILINEAR)));
        }
        ImageSet set = set(stored, "train", 36, 3);
        try (NDManager manager = NDManager.newBaseManager(Device.cpu());
                TrainingData data = new AugmentedImages(manager, set, 32, Resampling.Filter.BILINEAR, NORM)) {
            long[] indices = {4, 0, 2};
            NDArray[] first = data.batch(indices, 11, 0);
            assertEquals(new Shape(3, 3, 32, 32), first[0].getShape());
            assertArrayEquals(new long[] {1, 0, 2}, first[1].toLongArray());
            assertArrayEquals(first[0].toFloatArray(), data.batch(indices, 11, 0)[0].toFloatArray(), "same run, pass and examples");
            assertFalse(java.util.Arrays.equals(first[0].toFloatArray(), data.batch(indices, 11, 1)[0].toFloatArray()),
                    "the next pass crops differently");
            float[] expected = Augmentation.train(new RgbImage(36, 36, stored.get(4).image().planes()), 32,
                    Augmentation.random(11, 0, 4), Resampling.Filter.BILINEAR, NORM);
            float[] got = first[0].get(0).toFloatArray();
            assertArrayEquals(expected, got, "example 4's crop comes from its own (seed, pass, index) stream");
            NDArray[] eval = data.range(1, 3);
            assertArrayEquals(Augmentation.test(stored.get(2).image(), 36, 32, Resampling.Filter.BILINEAR, NORM), eval[0].get(1).toFloatArray());
            assertArrayEquals(new long[] {1, 2}, eval[1].toLongArray());
            assertEquals(1000, data.evaluationBatch(), "32x32 crops: the default 1000 per evaluation batch fit in 64 MB");
        }
        assertThrows(IllegalArgumentException.class, () -> new AugmentedImages(NDManager.newBaseManager(), set, 40, Resampling.Filter.BILINEAR, NORM));
    }

    /** Mean cross-entropy over all of {@code data} (evaluation inputs, inference mode). */
    private static double testLoss(Network net, TrainingData data) {
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            NDArray[] xy = data.range(0, data.size());
            return Objective.crossEntropy().loss(net.forward(xy[0], false), xy[1], null).getFloat();
        }
    }

    @Test
    void resnet18LearnsFromAugmentedStoredImages() throws Exception {
        SyntheticImages.imageFolder(dir.resolve("upstream"), 4, 40, 10, 40, 36, 9);
        IngestPlan plan = IngestPlan.upstream(FileSource.local(), images(144, 16, 4), 2022);
        List<IngestPlan.Stored> stored = decodeAll(plan, 36);
        ImageSet train = set(stored, "train", 36, 4);
        ImageSet test = set(stored, "test", 36, 4);
        TorchThreads.exclusive(() -> {
            try (Network net = Network.classifier(ResNet.resnet18(32), 4, 0, Device.cpu());
                    TrainingData trainData = new AugmentedImages(net.manager(), train, 32, Resampling.Filter.BILINEAR, NORM);
                    TrainingData testData = new AugmentedImages(net.manager(), test, 32, Resampling.Filter.BILINEAR, NORM)) {
                double before = Evaluator.evaluate(net, testData).top1();
                double lossBefore = testLoss(net, testData);
                new TrainingLoop(new TrainingLoop.Settings(16, 0.9f, 5e-4f, 0), TrainingLoop.Progress.SILENT)
                        .run(net, trainData, TrainingSchedule.fixedMask(45, TrainingSchedule.LearningRate.linear(0.05f, 0f)), null);
                double after = Evaluator.evaluate(net, testData).top1();
                double lossAfter = testLoss(net, testData);
                // Over 14 init/data seeds: accuracy 0.775-1.0 (median 1.0), test loss at most 0.089x the untrained
                // model's. About one seed in 11 misses one class of the four (accuracy ~0.75, loss above log 4), so the
                // bounds are chance-relative: 0.55 against a chance of 0.25, and half the untrained loss.
                assertTrue(after >= 0.55 && after > before + 0.25, "test accuracy " + before + " -> " + after);
                assertTrue(lossAfter < 0.5 * lossBefore, "test loss " + lossBefore + " -> " + lossAfter);
            }
            return null;
        });
    }
}
