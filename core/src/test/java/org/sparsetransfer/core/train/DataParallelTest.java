package org.sparsetransfer.core.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalDouble;
import org.junit.jupiter.api.Test;
import org.sparsetransfer.core.Synthetic;
import org.sparsetransfer.core.config.ExperimentConfig;
import org.sparsetransfer.core.data.ImageSet;
import org.sparsetransfer.core.experiment.TrainedModel;
import org.sparsetransfer.core.experiment.UpstreamExperiment;
import org.sparsetransfer.core.model.Tensor;
import org.sparsetransfer.core.model.WeightSum;
import org.sparsetransfer.core.model.Weights;
import org.sparsetransfer.core.prune.MagnitudePruner;
import org.sparsetransfer.core.prune.Mask;
import org.sparsetransfer.core.prune.OneShotSchedule;
import org.sparsetransfer.core.task.TaskRegistry;

/** Local SGD without Spark: the round plan, weight averaging, and a real two-worker run that learns and keeps its mask. */
class DataParallelTest {

    @Test
    void roundsKeepTheSchedulesStepsAndEndAtPruningSteps() {
        TrainingSchedule fixed = TrainingSchedule.fixedMask(50, TrainingSchedule.LearningRate.linear(1f, 0f));
        DataParallelPlan plan = DataParallelPlan.of(fixed, 10, -1);
        assertEquals(5, plan.rounds().size());
        assertEquals(50, plan.rounds().stream().mapToInt(DataParallelPlan.Round::steps).sum(), "the global batch keeps the steps");
        assertEquals(fixed.learningRate(11), plan.roundSchedule(plan.rounds().get(1)).learningRate(1));
        assertEquals(64, DataParallelPlan.workerBatch(128, 2));
        assertEquals(43, DataParallelPlan.workerBatch(128, 3), "rounded up");

        // One-shot prunes before step 0; a rewind point at step 3 ends a round there.
        DataParallelPlan pruned = DataParallelPlan.of(new OneShotSchedule(0.9, 20, TrainingSchedule.LearningRate.linear(1f, 0f)),
                8, 3);
        assertEquals(OptionalDouble.of(0.9), pruned.rounds().get(0).pruneBefore());
        assertEquals(List.of(3, 8, 8, 1), pruned.rounds().stream().map(DataParallelPlan.Round::steps).toList());
        assertEquals(3, DataParallelPlan.stepAfter(pruned.rounds().get(0)));
        assertTrue(pruned.rounds().stream().skip(1).noneMatch(r -> r.pruneBefore().isPresent()));
    }

    @Test
    void averagingIsTheMeanInAnyMergeOrderAndKeepsZerosZero() {
        Weights a = weights(1f, 0f, 3f);
        Weights b = weights(3f, 0f, -1f);
        Weights c = weights(2f, 0f, 1f);
        Weights leftFirst = new WeightSum().add(a).add(b).merge(new WeightSum().add(c)).average();
        Weights rightFirst = new WeightSum().add(c).merge(new WeightSum().add(b).add(a)).average();
        assertEquals(weights(2f, 0f, 1f), leftFirst);
        assertEquals(leftFirst, rightFirst);
    }

    @Test
    void twoWorkersLearnAndKeepTheMaskExact() throws Exception {
        ExperimentConfig config = new ExperimentConfig();
        config.upstream.epochs = 4;
        config.upstream.batchSize = 32;
        ImageSet train = Synthetic.squares("up", 600, 9, 1, 0);
        TaskRegistry.Splits splits = new TaskRegistry.Splits(train, Synthetic.squares("up", 200, 9, 2, 0),
                Synthetic.squares("up", 200, 9, 3, 0));
        UpstreamExperiment experiment = new UpstreamExperiment(config, splits, Device.cpu());
        Weights start = experiment.initialWeights();
        Mask mask = experiment.denseMask(start);
        // Prune to 50% before round 3, on the driver's side, as the Spark job does.
        DataParallelPlan plan = DataParallelPlan.of(experiment.denseSchedule(), 10, -1);
        Weights weights = start;
        Weights momentum = null;
        List<ImageSet> shards = List.of(train.subset("s0", range(0, 300)), train.subset("s1", range(300, 600)));
        for (DataParallelPlan.Round round : plan.rounds()) {
            if (round.index() == 2) {
                mask = new MagnitudePruner(MagnitudePruner.Scope.GLOBAL).prune(weights, mask, 0.5);
                weights = mask.apply(weights);
            }
            WeightSum sum = new WeightSum();
            WeightSum momentumSum = new WeightSum();
            for (int w = 0; w < shards.size(); w++) {
                UpstreamExperiment worker = new UpstreamExperiment(config, new TaskRegistry.Splits(shards.get(w), null, null),
                        Device.cpu());
                TrainingLoop.Settings s = experiment.denseSettings();
                UpstreamExperiment.RoundState state = worker.trainRound(weights, momentum, round.index() >= 2 ? mask : null,
                        plan.roundSchedule(round), new TrainingLoop.Settings(DataParallelPlan.workerBatch(s.batchSize(), 2),
                                s.momentum(), s.weightDecay(), 100L * round.index() + w), null);
                sum.add(state.weights());
                momentumSum.add(state.momentum());
            }
            weights = sum.average();
            momentum = momentumSum.average();
            assertEquals(weights.tensors().keySet(), momentum.tensors().keySet(), "every trained parameter has momentum");
        }
        for (String name : mask.tensorNames()) {
            boolean[] kept = mask.bits(name);
            float[] values = weights.get(name).values();
            for (int i = 0; i < kept.length; i++) {
                if (!kept[i]) {
                    assertEquals(0f, values[i], name + "[" + i + "] stays pruned through averaging");
                }
            }
        }
        TrainedModel model = experiment.evaluate(weights, mask, 0, 0, 0, TrainingLoop.Progress.SILENT);
        assertEquals(0.5, model.sparsity(), 1e-3);
        assertTrue(model.test().top1() > 0.9, "two workers learn the task: test top-1 " + model.test().top1());
    }

    private static Weights weights(float... values) {
        return new Weights(java.util.Map.of("w", new Tensor(new long[] {values.length}, values)));
    }

    private static int[] range(int from, int to) {
        List<Integer> list = new ArrayList<>();
        for (int i = from; i < to; i++) {
            list.add(i);
        }
        return list.stream().mapToInt(Integer::intValue).toArray();
    }
}
