package org.sparsetransfer.jobs.stages;

import java.io.Serializable;
import java.util.List;
import org.apache.spark.broadcast.Broadcast;
import org.sparsetransfer.core.config.ExperimentConfig;
import org.sparsetransfer.core.experiment.TrainedModel;
import org.sparsetransfer.core.experiment.UpstreamExperiment;
import org.sparsetransfer.core.prune.PruningMethod;
import org.sparsetransfer.core.task.TaskRegistry;

/** Trains the dense upstream model (one Spark task) and stores it as the root checkpoint. */
public final class UpstreamStage {
    public static final String NAME = "upstream";

    /** The work one task does. */
    public record Job(String id, ExperimentConfig config) implements Serializable {}

    public void run(StageContext ctx) {
        ctx.describe(NAME, "looking for the dense checkpoint");
        String id = ctx.ids().denseId();
        if (!ctx.checkpoints().existing(List.of(id)).isEmpty()) {
            StageContext.log(NAME, "dense checkpoint " + id + " exists, skipping");
            return;
        }
        TaskRegistry.Splits splits = readUpstream(ctx);
        StageContext.log(NAME, String.format("training dense %s on %s: %d train / %d val / %d test examples",
                ctx.config().model, TaskRegistry.UPSTREAM, splits.train().size(), splits.val().size(), splits.test().size()));
        Broadcast<TaskRegistry.Splits> data = ctx.jsc().broadcast(splits);
        TrainingJobs.run(ctx.jsc(), NAME, List.of(new TrainingJobs.Described<>(new Job(id, ctx.config()), "dense training " + id)),
                job -> train(job, data.value()),
                record -> {
                    ctx.checkpoints().write(List.of(record));
                    StageContext.log(NAME, String.format("stored %s: upstream test top-1 %.2f%%", record.id(), record.upstreamTop1()));
                });
        data.destroy();
    }

    static TaskRegistry.Splits readUpstream(StageContext ctx) {
        return new TaskRegistry.Splits(ctx.datasets().read(TaskRegistry.UPSTREAM, "train"),
                ctx.datasets().read(TaskRegistry.UPSTREAM, "val"), ctx.datasets().read(TaskRegistry.UPSTREAM, "test"));
    }

    private static CheckpointRecord train(Job job, TaskRegistry.Splits splits) throws Exception {
        UpstreamExperiment experiment = new UpstreamExperiment(job.config(), splits, Devices.forTask());
        TrainedModel dense = experiment.trainDense(line -> StageContext.log(NAME, line));
        return CheckpointRecord.of(job.id(), null, PruningMethod.DENSE.key(), NAME, 0.0, dense, job.config().name);
    }
}
