package org.sparsetransfer.core.experiment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.sparsetransfer.core.Synthetic;
import org.sparsetransfer.core.config.ExperimentConfig;
import org.sparsetransfer.core.method.InProcessPruning;
import org.sparsetransfer.core.method.PruningMethods;
import org.sparsetransfer.core.task.TaskRegistry;
import org.sparsetransfer.core.train.LocalSgd;
import org.sparsetransfer.core.train.MemoryStateStore;
import org.sparsetransfer.core.train.TrainingData;
import org.sparsetransfer.core.train.TrainingLoop;
import org.sparsetransfer.core.transfer.Regime;

/** Upstream, pruning and both transfer regimes on generated data, end to end without Spark. */
class TransferExperimentTest {
    @Test
    void prunedUpstreamModelsTransferInBothRegimes() throws Exception {
        ExperimentConfig config = org.sparsetransfer.core.config.ConfigLoader.parse(new java.io.ByteArrayInputStream(
                "pruning: {sparsities: [0.9], oneshot: {steps: 30}}\n".getBytes(java.nio.charset.StandardCharsets.UTF_8)), "test.yaml");
        config.upstream.epochs = 4;
        config.upstream.batchSize = 32;
        config.transfer.linear.steps = 60;
        config.transfer.full.steps = 40;
        config.transfer.batchSize = 32;
        TaskRegistry.Splits upstream = new TaskRegistry.Splits(Synthetic.squares("up", 600, 9, 1, 0),
                Synthetic.squares("up", 200, 9, 2, 0), Synthetic.squares("up", 200, 9, 3, 0));
        UpstreamExperiment experiment = new UpstreamExperiment(config, upstream, Device.cpu());
        TrainedModel dense = experiment.trainDense(TrainingLoop.Progress.SILENT);
        assertTrue(dense.test().top1() > 0.9, "dense upstream accuracy " + dense.test().top1());

        TrainedModel pruned = new InProcessPruning(config, upstream, dense, experiment.initialWeights(), 1, TrainingLoop.Progress.SILENT)
                .run(PruningMethods.byKey("oneshot", "test")).get(0.9).model();
        assertEquals(0.9, pruned.sparsity(), 1e-3);

        // A related task: 4 classes, squares moved by 2 pixels.
        TaskRegistry.Splits task = new TaskRegistry.Splits(Synthetic.squares("down", 300, 4, 4, 2), null,
                Synthetic.squares("down", 200, 4, 5, 2));
        TransferExperiment transfer = new TransferExperiment(config, Device.cpu());
        // A cache scoped to this checkpoint and task, as the transfer stage keeps one per Spark task.
        int[] extractions = {0};
        FeatureCache held = FeatureCache.holdingOne();
        FeatureCache cache = extract -> held.get(() -> {
            extractions[0]++;
            return extract.call();
        });
        for (Regime regime : List.of(Regime.LINEAR, Regime.FULL)) {
            for (long seed : List.of(0L, 1L)) {
                TransferExperiment.Outcome o = transfer.run(pruned.weights(), pruned.mask(), "synthetic", task, regime, seed, cache,
                        LocalSgd.StatePolicy.NONE, TrainingLoop.Progress.SILENT);
                assertEquals(regime, o.regime());
                assertNull(o.error());
                assertTrue(o.scores().top1() > 0.6, o.regime() + " seed " + o.seed() + " accuracy " + o.scores().top1());
            }
        }
        assertEquals(1, extractions[0], "both linear seeds used one extraction; full runs use none");

        // A run trains with its task's recipe: epochs of floor(300 / 32) = 9 steps, the per-task entry's for mnist.
        ExperimentConfig inEpochs = org.sparsetransfer.core.config.ConfigLoader.parse(new java.io.ByteArrayInputStream("""
                transfer:
                  tasks: [mnist, mnist_fewshot]
                  batch_size: 32
                  full: {epochs: 3, lr: 0.01, lr_milestones: [2]}
                  per_task:
                    mnist: {full: {epochs: 2, lr_milestones: [1]}}
                """.getBytes(java.nio.charset.StandardCharsets.UTF_8)), "test.yaml");
        TransferExperiment byTask = new TransferExperiment(inEpochs, Device.cpu());
        TransferExperiment.Outcome mnist = byTask.run(pruned.weights(), pruned.mask(), "mnist", task, Regime.FULL, 0,
                TrainingLoop.Progress.SILENT);
        TransferExperiment.Outcome fewshot = byTask.run(pruned.weights(), pruned.mask(), "mnist_fewshot", task, Regime.FULL, 0,
                TrainingLoop.Progress.SILENT);
        assertEquals(2 * 9, mnist.steps(), "mnist's own 2 epochs");
        assertEquals(3 * 9, fewshot.steps(), "the regime's 3 epochs");
        assertTrue(fewshot.scores().top1() > 0.6, "3 epochs learn the task: " + fewshot.scores().top1());
        FeatureCache.Extracted kept = cache.get(() -> null);
        assertEquals(300, kept.train().labels().length);
        assertEquals(200, kept.test().labels().length);
        // Cached features are the features: a run that extracts its own reaches the same scores.
        TransferExperiment.Outcome cached = transfer.run(pruned.weights(), pruned.mask(), "synthetic", task, Regime.LINEAR, 1, cache,
                LocalSgd.StatePolicy.NONE, TrainingLoop.Progress.SILENT);
        TransferExperiment.Outcome fresh = transfer.run(pruned.weights(), pruned.mask(), "synthetic", task, Regime.LINEAR, 1,
                TrainingLoop.Progress.SILENT);
        assertEquals(fresh.scores(), cached.scores());
    }

    /**
     * A transfer run killed right after it saved its state (in mid-epoch) resumes to the scores
     * of a run never killed, in both regimes; saving states changes no score.
     */
    @Test
    void aTransferRunKilledMidwayResumesToTheScoresOfOneNeverKilled() throws Exception {
        ExperimentConfig config = new ExperimentConfig();
        config.transfer.linear.steps = 30;
        config.transfer.full.steps = 20;
        config.transfer.batchSize = 32;
        TaskRegistry.Splits upstream = new TaskRegistry.Splits(Synthetic.squares("up", 100, 9, 1, 0), null,
                Synthetic.squares("up", 50, 9, 3, 0));
        UpstreamExperiment experiment = new UpstreamExperiment(config, upstream, Device.cpu());
        org.sparsetransfer.core.model.Weights weights = experiment.initialWeights();
        org.sparsetransfer.core.prune.Mask mask = new org.sparsetransfer.core.prune.MagnitudePruner(
                org.sparsetransfer.core.prune.MagnitudePruner.Scope.GLOBAL).prune(weights, experiment.denseMask(weights), 0.5);
        TaskRegistry.Splits task = new TaskRegistry.Splits(Synthetic.squares("down", 200, 4, 4, 2), null,
                Synthetic.squares("down", 100, 4, 5, 2));
        TransferExperiment transfer = new TransferExperiment(config, Device.cpu());
        for (Regime regime : List.of(Regime.LINEAR, Regime.FULL)) {
            TransferExperiment.Outcome never = transfer.run(weights, mask, "synthetic", task, regime, 3, TrainingLoop.Progress.SILENT);
            MemoryStateStore store = new MemoryStateStore().killAfter(2);
            LocalSgd.StatePolicy states = new LocalSgd.StatePolicy(store, "run", 4);
            try (FeatureCache none = FeatureCache.none()) {
                org.junit.jupiter.api.Assertions.assertThrows(MemoryStateStore.Killed.class, () -> transfer.run(weights, mask,
                        "synthetic", task, regime, 3, none, states, TrainingLoop.Progress.SILENT));
            }
            assertEquals(List.of(4, 8), store.steps, "killed at step 8, in the second of 6-step epochs");
            List<String> log = new java.util.ArrayList<>();
            TransferExperiment.Outcome resumed;
            try (FeatureCache none = FeatureCache.none()) {
                resumed = transfer.run(weights, mask, "synthetic", task, regime, 3, none, states, log::add);
            }
            assertTrue(log.contains(regime.key() + " seed 3: resuming from the training state saved at step 8/" + never.steps()),
                    log.toString());
            assertEquals(never.scores(), resumed.scores(), regime + ": the scores of the run never killed");
            assertEquals(never.steps(), resumed.steps());
            assertEquals(never.steps(), store.steps.get(store.steps.size() - 1), "its end saved");
        }
    }

    @Test
    void featuresOverTheBufferSpillToALocalFileAndGiveTheSameBatches() throws Exception {
        int[] labels = {0, 1, 2, 0, 1, 2, 0, 1, 2, 0};
        float[] rows = new float[10 * 3];
        for (int i = 0; i < rows.length; i++) {
            rows[i] = i * 0.25f - 3f;
        }
        Path dir = java.nio.file.Files.createTempDirectory("spill-test");
        FeatureCache.Split heap = split(rows, labels, 1 << 20, dir);
        FeatureCache.Split spilled = split(rows, labels, 10 * 3 * 4 - 1, dir);
        assertTrue(!heap.spilled() && spilled.spilled(), "one byte over the buffer spills");
        assertTrue(java.nio.file.Files.exists(spilled.file()));
        try (ai.djl.ndarray.NDManager manager = ai.djl.ndarray.NDManager.newBaseManager(Device.cpu());
                TrainingData a = heap.open(manager); TrainingData b = spilled.open(manager)) {
            long[] indices = {7, 2, 2, 9, 0};
            ai.djl.ndarray.NDArray[] x = a.batch(indices, 1, 0);
            ai.djl.ndarray.NDArray[] y = b.batch(indices, 1, 0);
            org.junit.jupiter.api.Assertions.assertArrayEquals(x[0].toFloatArray(), y[0].toFloatArray());
            assertEquals(x[0].getShape(), y[0].getShape());
            org.junit.jupiter.api.Assertions.assertArrayEquals(x[1].toLongArray(), y[1].toLongArray());
            org.junit.jupiter.api.Assertions.assertArrayEquals(new float[] {7 * 0.75f - 3f, 7 * 0.75f - 2.75f, 7 * 0.75f - 2.5f},
                    java.util.Arrays.copyOf(y[0].toFloatArray(), 3), "row 7 first");
            org.junit.jupiter.api.Assertions.assertArrayEquals(a.range(3, 8)[0].toFloatArray(), b.range(3, 8)[0].toFloatArray());
            org.junit.jupiter.api.Assertions.assertArrayEquals(a.range(3, 8)[1].toLongArray(), b.range(3, 8)[1].toLongArray());
        }
        spilled.close();
        assertTrue(!java.nio.file.Files.exists(spilled.file()), "closing deletes the file");
    }

    /** A linear transfer whose features spill (a 1 KiB buffer) scores exactly as one that keeps them on the heap. */
    @Test
    void linearTransferOnSpilledFeaturesScoresExactlyAsOnTheHeap() throws Exception {
        ExperimentConfig config = new ExperimentConfig();
        config.transfer.linear.steps = 30;
        config.transfer.batchSize = 32;
        UpstreamExperiment experiment = new UpstreamExperiment(config, new TaskRegistry.Splits(Synthetic.squares("up", 100, 9, 1, 0),
                null, Synthetic.squares("up", 50, 9, 3, 0)), Device.cpu());
        org.sparsetransfer.core.model.Weights weights = experiment.initialWeights();
        TaskRegistry.Splits task = new TaskRegistry.Splits(Synthetic.squares("down", 200, 4, 4, 2), null,
                Synthetic.squares("down", 100, 4, 5, 2));
        ExperimentConfig small = new ExperimentConfig();
        small.transfer.linear.steps = 30;
        small.transfer.batchSize = 32;
        small.data.bufferMb = 1.0 / 1024;
        TransferExperiment.Outcome[] outcomes = new TransferExperiment.Outcome[2];
        boolean[] spilled = new boolean[2];
        int i = 0;
        for (ExperimentConfig c : List.of(config, small)) {
            try (FeatureCache cache = FeatureCache.holdingOne()) {
                outcomes[i] = new TransferExperiment(c, Device.cpu()).run(weights, null, "synthetic", task, Regime.LINEAR, 2, cache,
                        LocalSgd.StatePolicy.NONE, TrainingLoop.Progress.SILENT);
                FeatureCache.Extracted kept = cache.get(() -> null);
                spilled[i++] = kept.train().spilled() && kept.test().spilled();
            }
        }
        assertTrue(!spilled[0] && spilled[1], "the default buffer holds them; 1 KiB does not");
        assertEquals(outcomes[0].scores(), outcomes[1].scores());
        assertTrue(outcomes[1].scores().top1() > 0.25, "it learns: " + outcomes[1].scores().top1());
    }

    /**
     * The L-BFGS probe chooses its penalty on validation examples of the training split only: with
     * the test split's labels poisoned, every choice (penalty, validation score, the fit's loss) is
     * the same and only the test score changes; it converges, and its seeds choose on their own
     * hold-outs. A full run chooses its learning rate from an lr_grid the same way.
     */
    @Test
    void theProbeAndTheLearningRateAreChosenWithoutReadingTheTestSplit() throws Exception {
        ExperimentConfig config = org.sparsetransfer.core.config.ConfigLoader.parse(new java.io.ByteArrayInputStream("""
                transfer:
                  tasks: [mnist]
                  batch_size: 32
                  linear: {solver: lbfgs}
                  full: {steps: 12, lr: 0.01, lr_grid: [0.05, 0.01]}
                  probe: {l2_grid: [0.0001, 0.01, 1.0]}
                  validation: {fraction: 0.25, min_per_class: 10}
                """.getBytes(java.nio.charset.StandardCharsets.UTF_8)), "test.yaml");
        UpstreamExperiment experiment = new UpstreamExperiment(config, new TaskRegistry.Splits(Synthetic.squares("up", 100, 9, 1, 0),
                null, Synthetic.squares("up", 50, 9, 3, 0)), Device.cpu());
        org.sparsetransfer.core.model.Weights weights = experiment.initialWeights();
        org.sparsetransfer.core.data.ImageSet test = Synthetic.squares("down", 100, 4, 5, 2);
        int[] poisoned = test.labels().clone();
        for (int i = 0; i < poisoned.length; i++) {
            poisoned[i] = (poisoned[i] + 1) % 4;
        }
        TaskRegistry.Splits clean = new TaskRegistry.Splits(Synthetic.squares("down", 200, 4, 4, 2), null, test);
        TaskRegistry.Splits bad = new TaskRegistry.Splits(clean.train(), null, test.relabelled("poisoned", 4, poisoned));
        TransferExperiment transfer = new TransferExperiment(config, Device.cpu());
        for (Regime regime : List.of(Regime.LINEAR, Regime.FULL)) {
            List<String> log = new java.util.ArrayList<>();
            TransferExperiment.Outcome a = transfer.run(weights, null, "mnist", clean, regime, 0, log::add);
            TransferExperiment.Outcome b = transfer.run(weights, null, "mnist", bad, regime, 0, TrainingLoop.Progress.SILENT);
            assertEquals(a.details().penalty(), b.details().penalty(), regime + ": the same penalty");
            assertEquals(a.details().learningRate(), b.details().learningRate(), regime + ": the same learning rate");
            assertEquals(a.details().validationScore(), b.details().validationScore(), regime + ": the same validation score");
            assertEquals(a.details().finalLoss(), b.details().finalLoss(), regime + ": the same training");
            assertTrue(a.scores().top1() > b.scores().top1() + 0.2, regime + ": only the test score changes: " + a.scores() + " vs " + b.scores());
            assertEquals((100 + 7) / 8, a.details().testCorrect().length, "a bit per test example");
            assertEquals(Math.round(a.scores().top1() * 100), java.util.BitSet.valueOf(a.details().testCorrect()).cardinality());
            if (regime == Regime.LINEAR) {
                assertTrue(a.details().converged(), log.toString());
                assertTrue(java.util.List.of(0.0001, 0.01, 1.0).contains(a.details().penalty()));
                assertTrue(log.stream().anyMatch(l -> l.startsWith("linear seed 0: penalty ") && l.contains("chosen on a hold-out of ")), log.toString());
                assertTrue(log.stream().anyMatch(l -> l.contains("converged")), log.toString());
            } else {
                assertTrue(java.util.Set.of(0.05f, 0.01f).contains(a.details().learningRate().floatValue()), a.details().toString());
                assertTrue(log.stream().anyMatch(l -> l.contains("learning rate ") && l.contains(" chosen on a hold-out")), log.toString());
            }
        }
    }

    private static FeatureCache.Split split(float[] rows, int[] labels, long bufferBytes, Path dir) throws Exception {
        FeatureCache.Split.Writer writer = FeatureCache.Split.writer(labels.length, labels, 3, bufferBytes, dir);
        writer.append(java.util.Arrays.copyOfRange(rows, 0, 12), 3);
        writer.append(java.util.Arrays.copyOfRange(rows, 12, rows.length), 3);
        return writer.finish();
    }
}
