package org.sparsetransfer.jobs.stages;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.sparsetransfer.core.config.ExperimentConfig;
import org.sparsetransfer.core.data.ImageSource;
import org.sparsetransfer.core.experiment.TrainedModel;
import org.sparsetransfer.core.experiment.UpstreamExperiment;
import org.sparsetransfer.core.model.Weights;
import org.sparsetransfer.core.train.DataParallelPlan;
import org.sparsetransfer.core.train.LocalSgd;
import org.sparsetransfer.core.train.TrainingLoop;
import org.sparsetransfer.core.train.TrainingSchedule;
import org.sparsetransfer.core.prune.Mask;
import org.sparsetransfer.core.prune.MaskUpdater;

/**
 * Every upstream training as Spark tasks: core's {@link LocalSgd} over N workers (N = 1 too, the
 * one training path), each round one Spark job. Every task trains its shard of the upstream data
 * (read by the task from the table's files, see {@link UpstreamData.TrainingRows#shard}, and kept
 * by its executor for the next rounds) from the broadcast weights, momentum buffers and mask, and
 * {@code treeAggregate} sums the results for the driver to average. The driver applies the
 * schedule's pruning steps to the averaged weights, so all workers share one exact mask; pruned
 * weights are zero in every worker's result, so they stay exactly zero in the average. With one
 * worker, rounds end only at pruning steps and kept steps, and the run is bitwise the
 * uninterrupted one.
 */
public final class DataParallelTraining {
    private DataParallelTraining() {}

    /**
     * Trainings on {@code rows} over {@code parallel.workers} Spark tasks per round, logging as
     * {@code stage} (worker 0 logs its epochs; the others are silent).
     */
    static LocalSgd.Trainer trainer(JavaSparkContext jsc, String stage, ExperimentConfig config,
            ExperimentConfig.DataParallel parallel, UpstreamData.TrainingRows rows, LocalSgd.StatePolicy states) {
        return (schedule, updater, settings, start, startMask, teacher, keepAtStep) -> train(jsc, stage, config, parallel, rows, states,
                schedule, updater, settings, start, startMask, teacher, keepAtStep, LocalSgd.Snapshots.NONE);
    }

    /** A dense training from {@code start} that hands over its weights at {@code snapshots}' steps (the dense_extended control). */
    static LocalSgd.Result withSnapshots(JavaSparkContext jsc, String stage, ExperimentConfig config, ExperimentConfig.DataParallel parallel,
            UpstreamData.TrainingRows rows, LocalSgd.StatePolicy states, TrainingSchedule schedule, TrainingLoop.Settings settings,
            Weights start, LocalSgd.Snapshots snapshots) throws Exception {
        return train(jsc, stage, config, parallel, rows, states, schedule, null, settings, start, null, null, -1, snapshots);
    }

    private static LocalSgd.Result train(JavaSparkContext jsc, String stage, ExperimentConfig config, ExperimentConfig.DataParallel parallel,
            UpstreamData.TrainingRows rows, LocalSgd.StatePolicy states, TrainingSchedule schedule, MaskUpdater updater,
            TrainingLoop.Settings settings, Weights start, Mask startMask, Weights teacher, int keepAtStep, LocalSgd.Snapshots snapshots)
            throws Exception {
        int workers = parallel.workers;
        Broadcast<Weights> teacherWeights = jsc.broadcast(teacher);
        List<Integer> workerIds = new ArrayList<>();
        for (int i = 0; i < workers; i++) {
            workerIds.add(i);
        }
        JavaRDD<Integer> tasks = TrainingResources.apply(jsc.parallelize(workerIds, workers), stage);
        int depth = TrainingJobs.treeDepth(workers);
        try {
            return LocalSgd.train(schedule, workers, parallel.localSteps, settings.batchSize(), updater, start, startMask,
                    keepAtStep, snapshots, states.saving(schedule, workers, parallel.localSteps, settings, updater, start, startMask, teacher,
                            keepAtStep), input -> {
                        Broadcast<LocalSgd.RoundInput> round = jsc.broadcast(input);
                        try {
                            LocalSgd.RoundSum[] sum = new LocalSgd.RoundSum[1];
                            TrainingJobs.inPool(TrainingJobs.TRAINING_POOL, () -> sum[0] = tasks.treeAggregate(new LocalSgd.RoundSum(),
                                    (acc, worker) -> acc.add(trainShard(config, settings, round.value(), rows, worker, workers,
                                            teacherWeights.value(), stage)),
                                    LocalSgd.RoundSum::merge, depth));
                            return sum[0];
                        } finally {
                            round.destroy();
                        }
                    }, line -> StageContext.log(stage, line));
        } finally {
            teacherWeights.destroy();
        }
    }

    /** The dense model's initialization (theta_0), made on an executor, where the engine and the data's classes are. */
    static Weights initialWeights(JavaSparkContext jsc, ExperimentConfig config, UpstreamData data) {
        return TrainingJobs.onExecutor(jsc, new SparkPruningRun.ModelJob(config, data, null), j -> j.experiment().initialWeights());
    }

    /** Worker {@code worker}'s share of a round, on an executor. */
    private static LocalSgd.RoundState trainShard(ExperimentConfig config, TrainingLoop.Settings settings, LocalSgd.RoundInput input,
            UpstreamData.TrainingRows rows, int worker, int workers, Weights teacher, String stage) throws Exception {
        ImageSource shard = rows.shard(worker, workers);
        return UpstreamExperiment.forModel(config, shard.numClasses(), Devices.forTask()).trainRound(input, settings, worker, workers,
                shard, teacher, worker == 0 ? line -> StageContext.log(stage, line) : TrainingLoop.Progress.SILENT);
    }

    /**
     * Scores a training's result on the upstream validation and test splits, each split in as
     * many parts (Spark tasks) as the training had workers ({@link SplitEvaluation}).
     */
    static TrainedModel score(JavaSparkContext jsc, String tag, ExperimentConfig config, UpstreamData data, LocalSgd.Result result) {
        return SplitEvaluation.score(jsc, tag, config, data, result.weights(), result.mask(), result.workers(), result.steps(),
                result.examplesSeen(), result.wallSeconds());
    }
}
