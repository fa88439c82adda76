package org.sparsetransfer.core.experiment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import org.junit.jupiter.api.Test;
import org.sparsetransfer.core.Synthetic;
import org.sparsetransfer.core.config.ExperimentConfig;
import org.sparsetransfer.core.model.Tensor;
import org.sparsetransfer.core.model.Weights;
import org.sparsetransfer.core.prune.PruningMethod;
import org.sparsetransfer.core.task.TaskRegistry;
import org.sparsetransfer.core.train.TrainingLoop;

/** IMP's rewinding and the bitwise reproducibility of masks, on generated data without Spark. */
class ImpRewindAndDeterminismTest {
    private final TaskRegistry.Splits splits = new TaskRegistry.Splits(Synthetic.squares("up", 400, 9, 1, 0),
            Synthetic.squares("up", 100, 9, 2, 0), Synthetic.squares("up", 100, 9, 3, 0));

    private static ExperimentConfig config() {
        ExperimentConfig c = new ExperimentConfig();
        c.upstream.epochs = 2;
        c.upstream.batchSize = 32;
        c.pruning.batchSize = 32;
        c.pruning.imp.rewindStep = 5;
        c.pruning.imp.retrainSteps = 10;
        c.pruning.gmpStar.pruningSteps = 3;
        c.pruning.gmpStar.interval = 5;
        c.pruning.gmpStar.recoverySteps = 5;
        return c;
    }

    @Test
    void rewindStepZeroIsTheInitAndRewindingRestoresTheSavedWeightsUnderTheMask() throws Exception {
        ExperimentConfig c = config();
        UpstreamExperiment experiment = new UpstreamExperiment(c, splits, Device.cpu());
        UpstreamExperiment.DenseRun atInit = experiment.trainDense(TrainingLoop.Progress.SILENT, 0);
        assertEquals(experiment.initialWeights(), atInit.rewind());

        UpstreamExperiment.DenseRun run = experiment.trainDense(TrainingLoop.Progress.SILENT, 5);
        assertTrue(!run.rewind().equals(atInit.rewind()) && !run.rewind().equals(run.model().weights()));
        // With a zero learning rate retraining is a no-op, so what comes out is exactly the reset state.
        c.upstream.lr = 0f;
        TrainedModel pruned = experiment.impRounds(run.model().weights(), null, run.rewind(), new double[] {0.5, 0.8},
                TrainingLoop.Progress.SILENT);
        assertEquals(0.8, pruned.sparsity(), 1e-4);
        Weights expected = pruned.mask().apply(run.rewind());
        for (String name : expected.tensors().keySet()) {
            Tensor want = expected.get(name);
            Tensor got = pruned.weights().get(name);
            for (int i = 0; i < want.size(); i++) {
                assertTrue(want.values()[i] == got.values()[i], name + "[" + i + "]: " + got.values()[i] + " != " + want.values()[i]);
            }
        }
    }

    @Test
    void sameConfigAndSeedsGiveBitwiseIdenticalMasks() throws Exception {
        UpstreamExperiment first = new UpstreamExperiment(config(), splits, Device.cpu());
        UpstreamExperiment second = new UpstreamExperiment(config(), splits, Device.cpu());
        TrainedModel denseA = first.trainDense(TrainingLoop.Progress.SILENT);
        TrainedModel denseB = second.trainDense(TrainingLoop.Progress.SILENT);
        assertEquals(denseA.weights(), denseB.weights());
        TrainedModel a = first.prune(PruningMethod.GMP_STAR, 0.9, denseA.weights(), TrainingLoop.Progress.SILENT);
        TrainedModel b = second.prune(PruningMethod.GMP_STAR, 0.9, denseB.weights(), TrainingLoop.Progress.SILENT);
        assertEquals(a.mask(), b.mask());
        assertEquals(a.weights(), b.weights());
    }
}
