package org.sparsetransfer.core.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
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
import org.sparsetransfer.core.experiment.InputPipeline;
import org.sparsetransfer.core.experiment.TrainedModel;
import org.sparsetransfer.core.experiment.UpstreamExperiment;
import org.sparsetransfer.core.model.Architecture;
import org.sparsetransfer.core.model.Network;
import org.sparsetransfer.core.model.Tensor;
import org.sparsetransfer.core.model.WeightSum;
import org.sparsetransfer.core.model.Weights;
import org.sparsetransfer.core.prune.MagnitudePruner;
import org.sparsetransfer.core.prune.Mask;
import org.sparsetransfer.core.prune.OneShotSchedule;
import org.sparsetransfer.core.task.TaskRegistry;

/**
 * Local SGD without Spark: the round plan, weight averaging, one worker in rounds equal to one
 * uninterrupted run, and a real two-worker run that learns and keeps its mask.
 */
public class DataParallelTest {

    @Test
    void roundsKeepTheSchedulesStepsAndEndAtPruningSteps() {
        TrainingSchedule fixed = TrainingSchedule.fixedMask(50, TrainingSchedule.LearningRate.linear(1f, 0f));
        DataParallelPlan plan = DataParallelPlan.of(fixed, 2, 10, -1);
        assertEquals(5, plan.rounds().size());
        assertEquals(50, plan.rounds().stream().mapToInt(DataParallelPlan.Round::steps).sum(), "the global batch keeps the steps");
        assertEquals(fixed.learningRate(11), plan.roundSchedule(plan.rounds().get(1)).learningRate(1));
        assertEquals(64, DataParallelPlan.workerBatch(128, 2));
        assertEquals(43, DataParallelPlan.workerBatch(128, 3), "rounded up");

        // One-shot prunes before step 0; a rewind point at step 3 ends a round there.
        DataParallelPlan pruned = DataParallelPlan.of(new OneShotSchedule(0.9, 20, TrainingSchedule.LearningRate.linear(1f, 0f)),
                2, 8, 3);
        assertEquals(OptionalDouble.of(0.9), pruned.rounds().get(0).pruneBefore());
        assertEquals(List.of(3, 8, 8, 1), pruned.rounds().stream().map(DataParallelPlan.Round::steps).toList());
        assertEquals(3, DataParallelPlan.stepAfter(pruned.rounds().get(0)));
        assertTrue(pruned.rounds().stream().skip(1).noneMatch(r -> r.pruneBefore().isPresent()));

        // One worker needs no averaging: rounds end only where the weights are wanted.
        assertEquals(List.of(50), DataParallelPlan.of(fixed, 1, 10, -1).rounds().stream().map(DataParallelPlan.Round::steps).toList());
        assertEquals(List.of(3, 17), DataParallelPlan.of(new OneShotSchedule(0.9, 20, TrainingSchedule.LearningRate.linear(1f, 0f)),
                1, 8, 3).rounds().stream().map(DataParallelPlan.Round::steps).toList());
        assertEquals(7L, DataParallelPlan.workerSeed(7L, 0), "worker 0 shuffles with the run's seed");
    }

    /** The shuffle: each pass (epoch) visits every example of the shard once; the same seed repeats it; passes differ. */
    @Test
    void eachPassVisitsEveryExampleOnceInAnOrderFromTheSeedAndThePass() {
        int size = 120;
        int batch = 8;
        BatchOrder order = new BatchOrder(size, batch, 42);
        BatchOrder again = new BatchOrder(size, batch, 42);
        List<List<Long>> passes = new ArrayList<>();
        for (int pass = 0; pass < 3; pass++) {
            List<Long> visited = new ArrayList<>();
            for (int b = 0; b < size / batch; b++) {
                long[] next = order.next();
                assertEquals(pass, order.pass());
                assertArrayEquals(next, again.next(), "the same seed gives the same batches");
                for (long i : next) {
                    visited.add(i);
                }
            }
            assertEquals(size, new java.util.HashSet<>(visited).size(), "pass " + pass + " visits every example once");
            passes.add(visited);
        }
        assertTrue(!passes.get(0).equals(passes.get(1)) && !passes.get(1).equals(passes.get(2)), "each pass has its own order");
        BatchOrder other = new BatchOrder(size, batch, 43);
        assertTrue(!java.util.Arrays.equals(new BatchOrder(size, batch, 42).next(), other.next()), "another seed, another order");
        // A batch that does not divide the shard: a pass visits each example at most once; the rest wait for the next pass.
        BatchOrder uneven = new BatchOrder(10, 3, 1);
        java.util.Set<Long> first = new java.util.HashSet<>();
        for (int b = 0; b < 3; b++) {
            for (long i : uneven.next()) {
                assertTrue(first.add(i), "example " + i + " twice in one pass");
            }
        }
        uneven.next();
        assertEquals(1, uneven.pass(), "the fourth batch of 3 from 10 starts the next pass");
    }

    @Test
    void skippingBatchesContinuesTheOrderAcrossPasses() {
        BatchOrder walked = new BatchOrder(10, 3, 5);
        for (int b = 0; b < 7; b++) {
            walked.next();
        }
        BatchOrder skipped = new BatchOrder(10, 3, 5);
        skipped.skip(7);
        for (int b = 0; b < 5; b++) {
            assertArrayEquals(walked.next(), skipped.next(), "batch " + (7 + b));
            assertEquals(walked.pass(), skipped.pass());
        }
    }

    /**
     * The one training path with one worker, cut into rounds at two pruning steps and a kept step
     * (each round a fresh network resuming the batch order and the momentum buffers), is bitwise
     * the uninterrupted run of the same schedule with the pruning inside the loop.
     */
    @Test
    void oneWorkerInRoundsIsBitwiseTheUninterruptedRun() throws Exception {
        ExperimentConfig config = new ExperimentConfig();
        ImageSet train = Synthetic.squares("up", 300, 9, 1, 0);
        TaskRegistry.Splits splits = new TaskRegistry.Splits(train, Synthetic.squares("up", 100, 9, 2, 0),
                Synthetic.squares("up", 100, 9, 3, 0));
        UpstreamExperiment experiment = new UpstreamExperiment(config, splits, Device.cpu());
        TrainingSchedule fixed = TrainingSchedule.fixedMask(40, TrainingSchedule.LearningRate.linear(0.05f, 0f));
        TrainingSchedule schedule = pruningAt(fixed, java.util.Map.of(0, 0.3, 17, 0.6));
        MagnitudePruner pruner = new MagnitudePruner(MagnitudePruner.Scope.GLOBAL);
        TrainingLoop.Settings settings = new TrainingLoop.Settings(32, 0.9f, 5e-4f, 11L);
        Weights start = experiment.initialWeights();
        Mask denseMask = experiment.denseMask(start);
        int keepAt = 25; // mid-epoch (10 steps per epoch), away from the pruning steps

        LocalSgd.Result rounds = experiment.inProcess(TrainingLoop.Progress.SILENT).train(schedule, pruner, settings, start, denseMask,
                null, keepAt);

        Weights[] keptInLoop = new Weights[1];
        Weights uninterrupted;
        Mask uninterruptedMask;
        try (Network net = Network.classifier(Architecture.byName(config.model, config.data.images.imageSize), train.numClasses(),
                settings.seed(), Device.cpu()); TrainingData data = InputPipeline.of(config).open(net.manager(), train)) {
            net.load(start, name -> true);
            net.setMask(denseMask);
            new TrainingLoop(settings, TrainingLoop.Progress.SILENT).withStepListener((done, network) -> {
                if (done == keepAt) {
                    keptInLoop[0] = network.weights();
                }
            }).run(net, data, schedule, pruner);
            uninterrupted = net.weights();
            uninterruptedMask = net.mask();
        }
        assertEquals(3, DataParallelPlan.of(schedule, 1, 1, keepAt).rounds().size(), "cut at step 17 and at step 25");
        assertEquals(uninterruptedMask, rounds.mask());
        assertEquals(uninterrupted, rounds.weights());
        assertEquals(keptInLoop[0], rounds.kept());
        assertEquals(0.6, rounds.mask().sparsity(), 0.01);
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
        // One model's sum is that model, bit for bit (a pruned -0.0 stays -0.0), merged into an empty sum or not.
        Weights signed = weights(-0f, 2.5f, -1f);
        assertEquals(signed, new WeightSum().add(signed).average());
        assertEquals(signed, new WeightSum().merge(new WeightSum().add(signed)).merge(new WeightSum()).average());
        assertEquals(weights(1.5f, 0f, 2f), new WeightSum().add(a).merge(new WeightSum().add(c)).merge(new WeightSum()).average());
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
        TrainingSchedule dense = experiment.schedules().denseSchedule();
        // Prune to 50% before step 20 (a round boundary of 10 local steps): the averaged weights are pruned, once.
        TrainingSchedule schedule = pruningAt(dense, java.util.Map.of(20, 0.5));
        List<ImageSet> shards = List.of(train.subset("s0", range(0, 300)), train.subset("s1", range(300, 600)));
        LocalSgd.Result result = experiment.inProcess(shards, 10, TrainingLoop.Progress.SILENT).train(schedule,
                new MagnitudePruner(MagnitudePruner.Scope.GLOBAL), experiment.schedules().denseSettings(), start, experiment.denseMask(start), null, -1);
        Mask mask = result.mask();
        Weights weights = result.weights();
        assertEquals(2, result.workers());
        for (String name : mask.tensorNames()) {
            boolean[] kept = mask.bits(name);
            float[] values = weights.get(name).values();
            for (int i = 0; i < kept.length; i++) {
                if (!kept[i]) {
                    assertTrue(values[i] == 0f, name + "[" + i + "] stays pruned through averaging: " + values[i]);
                }
            }
        }
        TrainedModel model = experiment.evaluate(weights, mask, 0, 0, 0, TrainingLoop.Progress.SILENT);
        assertEquals(0.5, model.sparsity(), 1e-3);
        assertTrue(model.test().top1() > 0.9, "two workers learn the task: test top-1 " + model.test().top1());
    }

    /** {@code base}'s steps and learning rates, pruning to the given sparsity before each given step. */
    public static TrainingSchedule pruningAt(TrainingSchedule base, java.util.Map<Integer, Double> targets) {
        return new TrainingSchedule() {
            @Override
            public int totalSteps() {
                return base.totalSteps();
            }

            @Override
            public float learningRate(int step) {
                return base.learningRate(step);
            }

            @Override
            public OptionalDouble pruneBefore(int step) {
                Double target = targets.get(step);
                return target == null ? OptionalDouble.empty() : OptionalDouble.of(target);
            }
        };
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
