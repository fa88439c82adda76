package org.sparsetransfer.jobs.stages;

import ai.djl.Device;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.broadcast.Broadcast;
import org.sparsetransfer.core.config.ExperimentConfig;
import org.sparsetransfer.core.experiment.TrainedModel;
import org.sparsetransfer.core.experiment.UpstreamExperiment;
import org.sparsetransfer.core.model.Weights;
import org.sparsetransfer.core.prune.PruningMethod;
import org.sparsetransfer.core.task.TaskRegistry;

/** Trains the dense upstream model (one Spark task) and stores it as the root checkpoint. */
public final class UpstreamStage {
    public static final String NAME = "upstream";

    /** The work one task does. */
    public record Job(String id, int rewindStep, ExperimentConfig config) implements Serializable {}

    public void run(StageContext ctx) {
        ctx.describe(NAME, "looking for the dense checkpoint");
        String id = ctx.ids().denseId();
        if (!ctx.checkpoints().existing(List.of(id)).isEmpty()) {
            StageContext.log(NAME, "dense checkpoint " + id + " exists, skipping");
            return;
        }
        TaskRegistry.Splits splits = readUpstream(ctx);
        StageContext.log(NAME, String.format("training dense %s on %s: %d train / %d val / %d test examples",
                ctx.config().model, TaskRegistry.upstreamDataset(ctx.config()), splits.train().size(), splits.val().size(), splits.test().size()));
        Broadcast<TaskRegistry.Splits> data = ctx.jsc().broadcast(splits);
        // With IMP in the config, keep the weights of its rewind step from this same run.
        boolean keepRewind = ctx.config().pruning.methods.contains(PruningMethod.IMP.key());
        String rewindId = ctx.ids().rewindId();
        Job job = new Job(id, keepRewind ? ctx.config().pruning.imp.rewindStep : -1, ctx.config());
        boolean parallel = ctx.config().upstream.dataParallel.workers > 1;
        TrainingJobs.run(ctx.jsc(), NAME, List.of(new TrainingJobs.Described(() -> {
            List<CheckpointRecord> records = parallel ? trainDataParallel(ctx, job, rewindId, splits, data)
                    : TrainingJobs.onExecutor(ctx.jsc(), job, j -> train(j, rewindId, data.value()));
            TrainingJobs.persist(() -> ctx.checkpoints().write(records));
            StageContext.log(NAME, String.format("stored %s: upstream test top-1 %.2f%%", records.get(0).id(),
                    records.get(0).upstreamTop1()));
        }, "dense training " + id)));
        data.destroy();
    }

    static TaskRegistry.Splits readUpstream(StageContext ctx) {
        String upstream = TaskRegistry.upstreamDataset(ctx.config());
        return new TaskRegistry.Splits(ctx.datasets().read(upstream, "train"), ctx.datasets().read(upstream, "val"),
                ctx.datasets().read(upstream, "test"));
    }

    /** As {@link #train}, data-parallel over upstream.data_parallel.workers Spark tasks per round. */
    private static List<CheckpointRecord> trainDataParallel(StageContext ctx, Job job, String rewindId, TaskRegistry.Splits splits,
            Broadcast<TaskRegistry.Splits> data) {
        ExperimentConfig config = job.config();
        UpstreamExperiment plan = new UpstreamExperiment(config, splits, Device.cpu()); // schedules and settings only
        Weights init = TrainingJobs.onExecutor(ctx.jsc(), config, c -> new UpstreamExperiment(c, data.value(), Devices.forTask())
                .initialWeights());
        DataParallelTraining.Result result = DataParallelTraining.train(ctx.jsc(), NAME, config.upstream.dataParallel,
                splits.train(), plan.denseSchedule(), null, new DataParallelTraining.Recipe(config, plan.denseSettings(), false),
                init, null, null, job.rewindStep());
        TrainedModel model = DataParallelTraining.score(ctx.jsc(), NAME, config, data, result);
        return records(job, rewindId, model, result.kept());
    }

    /** The dense checkpoint, then the rewind checkpoint if the job asked to keep one. */
    private static List<CheckpointRecord> train(Job job, String rewindId, TaskRegistry.Splits splits) throws Exception {
        UpstreamExperiment experiment = new UpstreamExperiment(job.config(), splits, Devices.forTask());
        UpstreamExperiment.DenseRun run = experiment.trainDense(line -> StageContext.log(NAME, line), job.rewindStep());
        return records(job, rewindId, run.model(), run.rewind());
    }

    private static List<CheckpointRecord> records(Job job, String rewindId, TrainedModel model, Weights rewind) {
        List<CheckpointRecord> records = new ArrayList<>();
        records.add(CheckpointRecord.of(job.id(), null, PruningMethod.DENSE.key(), NAME, 0.0, model, job.config().name));
        if (rewind != null) {
            records.add(CheckpointRecord.intermediate(rewindId, job.id(), PruningMethod.IMP.key(), "rewind", 0.0, rewind,
                    null, job.rewindStep(), (long) job.rewindStep() * job.config().upstream.batchSize, 0.0, job.config().name));
        }
        return records;
    }
}
