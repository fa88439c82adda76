package org.sparsetransfer.core.experiment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.sparsetransfer.core.Synthetic;
import org.sparsetransfer.core.config.ExperimentConfig;
import org.sparsetransfer.core.prune.PruningMethod;
import org.sparsetransfer.core.task.TaskRegistry;
import org.sparsetransfer.core.train.TrainingLoop;
import org.sparsetransfer.core.transfer.Regime;

/** Upstream, pruning and both transfer regimes on generated data, end to end without Spark. */
class TransferExperimentTest {
    @Test
    void prunedUpstreamModelsTransferInBothRegimes() throws Exception {
        ExperimentConfig config = new ExperimentConfig();
        config.upstream.epochs = 4;
        config.upstream.batchSize = 32;
        config.pruning.oneshot.steps = 30;
        config.transfer.linear.steps = 60;
        config.transfer.full.steps = 40;
        config.transfer.batchSize = 32;
        TaskRegistry.Splits upstream = new TaskRegistry.Splits(Synthetic.squares("up", 600, 9, 1, 0),
                Synthetic.squares("up", 200, 9, 2, 0), Synthetic.squares("up", 200, 9, 3, 0));
        UpstreamExperiment experiment = new UpstreamExperiment(config, upstream, Device.cpu());
        TrainedModel dense = experiment.trainDense(TrainingLoop.Progress.SILENT);
        assertTrue(dense.test().top1() > 0.9, "dense upstream accuracy " + dense.test().top1());

        TrainedModel pruned = experiment.prune(PruningMethod.ONESHOT, 0.9, dense.weights(), TrainingLoop.Progress.SILENT);
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
                        TrainingLoop.Progress.SILENT);
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
                TrainingLoop.Progress.SILENT);
        TransferExperiment.Outcome fresh = transfer.run(pruned.weights(), pruned.mask(), "synthetic", task, Regime.LINEAR, 1,
                TrainingLoop.Progress.SILENT);
        assertEquals(fresh.scores(), cached.scores());
    }
}
