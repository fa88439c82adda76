package org.sparsetransfer.jobs.stages;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.sparsetransfer.core.config.ExperimentConfig;
import org.sparsetransfer.core.data.ImageSet;
import org.sparsetransfer.core.experiment.TrainedModel;
import org.sparsetransfer.core.experiment.UpstreamExperiment;
import org.sparsetransfer.core.model.WeightSum;
import org.sparsetransfer.core.model.Weights;
import org.sparsetransfer.core.prune.MagnitudePruner;
import org.sparsetransfer.core.prune.Mask;
import org.sparsetransfer.core.task.TaskRegistry;
import org.sparsetransfer.core.train.DataParallelPlan;
import org.sparsetransfer.core.train.TrainingLoop;
import org.sparsetransfer.core.train.TrainingSchedule;

/**
 * Data-parallel training of one schedule over N Spark tasks (local SGD, see
 * {@link DataParallelPlan}). Each round is one Spark job: every task trains its shard of the
 * upstream data (read by the task from the table's files, see {@link UpstreamData.TrainingRows#shard})
 * for H steps from the broadcast weights and mask, and {@code treeAggregate}
 * sums the results (weights and momentum buffers, so momentum carries over between rounds)
 * for the driver to average. The driver applies the schedule's pruning steps
 * to the averaged weights, so all workers share one exact mask; pruned weights are zero in
 * every worker's result, so they stay exactly zero in the average.
 */
public final class DataParallelTraining {
    /** What every worker trains with; {@code distill} trains against the teacher (GMP*). */
    public record Recipe(ExperimentConfig config, TrainingLoop.Settings settings, boolean distill) implements Serializable {}

    /**
     * One round's broadcast input: the averaged weights and momentum buffers (null in the first
     * round), the shared mask, and the learning rate of each local step.
     */
    public record RoundInput(int round, Weights weights, Weights momentum, Mask mask, float[] learningRates)
            implements Serializable {}

    /** The workers' weights and momentum buffers, summed for averaging (treeAggregate's accumulator). */
    public record RoundSum(WeightSum weights, WeightSum momentum) implements Serializable {
        RoundSum() {
            this(new WeightSum(), new WeightSum());
        }

        RoundSum add(UpstreamExperiment.RoundState state) {
            weights.add(state.weights());
            momentum.add(state.momentum());
            return this;
        }

        RoundSum merge(RoundSum other) {
            weights.merge(other.weights);
            momentum.merge(other.momentum);
            return this;
        }
    }

    /** The trained weights and mask, the averaged weights at {@code keepAtStep} if asked for, the cost and the workers. */
    record Result(Weights weights, Mask mask, Weights kept, int steps, long examplesSeen, double wallSeconds, int workers) {
        /** This run followed by {@code next} (IMP's rounds): next's weights, both runs' cost. */
        Result then(Result next) {
            return new Result(next.weights, next.mask, next.kept, steps + next.steps, examplesSeen + next.examplesSeen,
                    wallSeconds + next.wallSeconds, next.workers);
        }
    }

    private DataParallelTraining() {}

    /**
     * @param keepAtStep a step whose averaged weights to keep (IMP's rewind point), or -1
     */
    static Result train(JavaSparkContext jsc, String stage, ExperimentConfig.DataParallel parallel, UpstreamData.TrainingRows train,
            TrainingSchedule schedule, MagnitudePruner pruner, Recipe recipe, Weights start, Mask startMask, Weights teacher,
            int keepAtStep) {
        long begin = System.nanoTime();
        DataParallelPlan plan = DataParallelPlan.of(schedule, parallel.localSteps, keepAtStep);
        int workerBatch = DataParallelPlan.workerBatch(recipe.settings().batchSize(), parallel.workers);
        StageContext.log(stage, String.format("data-parallel: %d workers, %d local steps per round, %d rounds of %d steps, "
                + "batch %d per worker", parallel.workers, parallel.localSteps, plan.rounds().size(), schedule.totalSteps(), workerBatch));
        TrainingLoop.Settings base = recipe.settings();
        Recipe perWorker = new Recipe(recipe.config(), new TrainingLoop.Settings(workerBatch, base.momentum(), base.weightDecay(),
                base.seed()), recipe.distill());
        Broadcast<Weights> teacherWeights = jsc.broadcast(teacher);
        List<Integer> workerIds = new ArrayList<>();
        for (int i = 0; i < parallel.workers; i++) {
            workerIds.add(i);
        }
        JavaRDD<Integer> workers = TrainingResources.apply(jsc.parallelize(workerIds, parallel.workers), stage);
        Weights weights = startMask == null ? start : startMask.apply(start);
        Weights momentum = null;
        Mask mask = startMask;
        Weights kept = null;
        int depth = TrainingJobs.treeDepth(parallel.workers);
        for (DataParallelPlan.Round round : plan.rounds()) {
            if (round.pruneBefore().isPresent()) {
                mask = pruner.prune(weights, mask, round.pruneBefore().getAsDouble());
                weights = mask.apply(weights);
                StageContext.log(stage, String.format("round %d: pruned the averaged weights to sparsity %.4f",
                        round.index() + 1, mask.sparsity()));
            }
            TrainingSchedule rates = plan.roundSchedule(round);
            float[] learningRates = new float[rates.totalSteps()];
            for (int s = 0; s < learningRates.length; s++) {
                learningRates[s] = rates.learningRate(s);
            }
            Broadcast<RoundInput> input = jsc.broadcast(new RoundInput(round.index(), weights, momentum, mask, learningRates));
            RoundSum[] sum = new RoundSum[1];
            TrainingJobs.inPool(TrainingJobs.TRAINING_POOL, () -> sum[0] = workers.treeAggregate(new RoundSum(),
                    (acc, worker) -> acc.add(trainShard(perWorker, input.value(), train.shard(worker, parallel.workers), worker,
                            teacherWeights.value())),
                    RoundSum::merge, depth));
            input.destroy();
            if (sum[0].weights().count() != parallel.workers) {
                throw new IllegalStateException("round " + round.index() + " averaged " + sum[0].weights().count() + " of "
                        + parallel.workers + " workers");
            }
            weights = mask == null ? sum[0].weights().average() : mask.apply(sum[0].weights().average());
            momentum = sum[0].momentum().average();
            if (keepAtStep >= 0 && DataParallelPlan.stepAfter(round) == keepAtStep) {
                kept = weights;
            }
        }
        teacherWeights.destroy();
        int steps = schedule.totalSteps();
        return new Result(weights, mask, kept, steps, (long) steps * parallel.workers * workerBatch, (System.nanoTime() - begin) / 1e9,
                parallel.workers);
    }

    /** Worker {@code worker}'s share of a round, on an executor. */
    private static UpstreamExperiment.RoundState trainShard(Recipe recipe, RoundInput input, ImageSet shard, int worker,
            Weights teacher)
            throws Exception {
        TrainingLoop.Settings base = recipe.settings();
        TrainingLoop.Settings settings = new TrainingLoop.Settings(base.batchSize(), base.momentum(), base.weightDecay(),
                DataParallelPlan.workerSeed(base.seed(), input.round(), worker));
        UpstreamExperiment experiment = new UpstreamExperiment(recipe.config(), new TaskRegistry.Splits(shard, null, null),
                Devices.forTask());
        return experiment.trainRound(input.weights(), input.momentum(), input.mask(),
                TrainingSchedule.ofRates(input.learningRates()), settings, recipe.distill() ? teacher : null);
    }

    /**
     * Scores a data-parallel result on the upstream validation and test splits, each split in as
     * many parts (Spark tasks) as the training had workers ({@link SplitEvaluation}).
     */
    static TrainedModel score(JavaSparkContext jsc, String tag, ExperimentConfig config, UpstreamData data, Result result) {
        return SplitEvaluation.score(jsc, tag, config, data, result.weights(), result.mask(), result.workers(), result.steps(),
                result.examplesSeen(), result.wallSeconds());
    }
}
