package org.sparsetransfer.core.experiment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.sparsetransfer.core.Synthetic;
import org.sparsetransfer.core.config.ConfigLoader;
import org.sparsetransfer.core.config.ExperimentConfig;
import org.sparsetransfer.core.method.InProcessPruning;
import org.sparsetransfer.core.method.PruningMethod;
import org.sparsetransfer.core.method.PruningMethods;
import org.sparsetransfer.core.method.PruningRun;
import org.sparsetransfer.core.model.Tensor;
import org.sparsetransfer.core.model.Weights;
import org.sparsetransfer.core.task.TaskRegistry;
import org.sparsetransfer.core.train.TrainingLoop;

/** IMP's rewinding and the bitwise reproducibility of masks, on generated data without Spark. */
class ImpRewindAndDeterminismTest {
    private final TaskRegistry.Splits splits = new TaskRegistry.Splits(Synthetic.squares("up", 400, 9, 1, 0),
            Synthetic.squares("up", 100, 9, 2, 0), Synthetic.squares("up", 100, 9, 3, 0));

    private static ExperimentConfig config(double... sparsities) {
        ExperimentConfig c = ConfigLoader.parse(new ByteArrayInputStream("""
                upstream: {epochs: 2, batch_size: 32}
                pruning:
                  batch_size: 32
                  imp: {rewind_step: 5, retrain_steps: 10, prune_fraction: 0.5}
                  gmp_star: {pruning_steps: 3, interval: 5, recovery_steps: 5}
                """.getBytes(StandardCharsets.UTF_8)), "test.yaml");
        c.pruning.sparsities = new ArrayList<>();
        for (double s : sparsities) {
            c.pruning.sparsities.add(s);
        }
        return c;
    }

    @Test
    void rewindStepZeroIsTheInitAndRewindingRestoresTheSavedWeightsUnderTheMask() throws Exception {
        ExperimentConfig c = config(0.5, 0.8);
        UpstreamExperiment experiment = new UpstreamExperiment(c, splits, Device.cpu());
        UpstreamExperiment.DenseRun atInit = experiment.trainDense(TrainingLoop.Progress.SILENT, 0);
        assertEquals(experiment.initialWeights(), atInit.rewind());

        UpstreamExperiment.DenseRun run = experiment.trainDense(TrainingLoop.Progress.SILENT, 5);
        assertTrue(!run.rewind().equals(atInit.rewind()) && !run.rewind().equals(run.model().weights()));
        // With a zero learning rate retraining is a no-op, so what comes out is exactly the reset state.
        c.upstream.lr = 0f;
        PruningMethod imp = PruningMethods.byKey("imp", "test");
        InProcessPruning pruning = new InProcessPruning(c, splits, run.model(), experiment.initialWeights(), 1, TrainingLoop.Progress.SILENT);
        // The rewind point as the upstream stage keeps it while training the dense model.
        PruningMethod.DenseKeep keep = imp.keepsFromDense(pruning.ids(), pruning.schedules()).orElseThrow();
        assertEquals(5, keep.step());
        pruning.store(imp, PruningRun.Made.intermediate(keep.id(), pruning.dense().id(), "rewind", 0.0, run.rewind(), null,
                PruningRun.Cost.NONE));
        // prune_fraction 0.5: one round to 0.5, then one more to 0.8 from that checkpoint.
        Map<Double, InProcessPruning.Checkpoint> chain = pruning.run(imp);
        InProcessPruning.Checkpoint half = chain.get(0.5);
        InProcessPruning.Checkpoint pruned = chain.get(0.8);
        assertEquals(half.id(), pruned.parentId(), "each target's checkpoint continues the previous one's");
        assertEquals(pruning.dense().id(), half.parentId());
        assertEquals(0.5, half.model().sparsity(), 1e-4);
        assertEquals(0.8, pruned.model().sparsity(), 1e-4);
        for (InProcessPruning.Checkpoint checkpoint : List.of(half, pruned)) {
            Weights expected = checkpoint.mask().apply(run.rewind());
            for (String name : expected.tensors().keySet()) {
                Tensor want = expected.get(name);
                Tensor got = checkpoint.weights().get(name);
                for (int i = 0; i < want.size(); i++) {
                    assertTrue(want.values()[i] == got.values()[i], name + "[" + i + "]: " + got.values()[i] + " != " + want.values()[i]);
                }
            }
        }
    }

    /**
     * IMP added to a config after its dense model was trained: the rewind point the dense run did
     * not keep is trained again (the dense run's first steps from the same initialization), to
     * the same weights, and stored for the rounds to rewind to.
     */
    @Test
    void aRewindPointTheDenseRunDidNotKeepIsTrainedAgainToTheSameWeights() throws Exception {
        ExperimentConfig c = config(0.5);
        UpstreamExperiment experiment = new UpstreamExperiment(c, splits, Device.cpu());
        UpstreamExperiment.DenseRun run = experiment.trainDense(TrainingLoop.Progress.SILENT, 5);
        PruningMethod imp = PruningMethods.byKey("imp", "test");
        InProcessPruning pruning = new InProcessPruning(c, splits, run.model(), experiment.initialWeights(), 1, TrainingLoop.Progress.SILENT);
        String rewindId = imp.keepsFromDense(pruning.ids(), pruning.schedules()).orElseThrow().id();
        InProcessPruning.Checkpoint half = pruning.run(imp).get(0.5);
        InProcessPruning.Checkpoint rewind = pruning.checkpoints().get(rewindId);
        assertEquals(run.rewind(), rewind.weights(), "the dense run's weights after 5 steps, bit for bit");
        assertEquals(5, rewind.cost().steps());
        assertEquals(pruning.dense().id(), rewind.parentId());
        assertEquals(0.5, half.model().sparsity(), 1e-4);
        assertTrue(half.mask().holds(half.weights()));
    }

    @Test
    void sameConfigAndSeedsGiveBitwiseIdenticalMasks() throws Exception {
        UpstreamExperiment first = new UpstreamExperiment(config(0.9), splits, Device.cpu());
        UpstreamExperiment second = new UpstreamExperiment(config(0.9), splits, Device.cpu());
        TrainedModel denseA = first.trainDense(TrainingLoop.Progress.SILENT);
        TrainedModel denseB = second.trainDense(TrainingLoop.Progress.SILENT);
        assertEquals(denseA.weights(), denseB.weights());
        PruningMethod gmpStar = PruningMethods.byKey("gmp_star", "test");
        TrainedModel a = new InProcessPruning(config(0.9), splits, denseA, first.initialWeights(), 1, TrainingLoop.Progress.SILENT)
                .run(gmpStar).get(0.9).model();
        TrainedModel b = new InProcessPruning(config(0.9), splits, denseB, second.initialWeights(), 1, TrainingLoop.Progress.SILENT)
                .run(gmpStar).get(0.9).model();
        assertEquals(0.9, a.sparsity(), 1e-3);
        assertEquals(a.mask(), b.mask());
        assertEquals(a.weights(), b.weights());
    }
}
