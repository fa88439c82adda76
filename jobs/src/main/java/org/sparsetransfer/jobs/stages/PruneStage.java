package org.sparsetransfer.jobs.stages;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.apache.spark.broadcast.Broadcast;
import org.sparsetransfer.core.InvalidInputException;
import org.sparsetransfer.core.config.ExperimentConfig;
import org.sparsetransfer.core.experiment.TrainedModel;
import org.sparsetransfer.core.experiment.UpstreamExperiment;
import org.sparsetransfer.core.prune.PruningMethod;
import org.sparsetransfer.core.task.TaskRegistry;

/**
 * Runs every (method, target sparsity) of the config from the dense checkpoint, one Spark task
 * each, storing each pruned checkpoint as it finishes; existing checkpoints are skipped.
 */
public final class PruneStage {
    public static final String NAME = "prune";

    /** One pruning run. */
    public record Job(String id, String parentId, PruningMethod method, double sparsity, ExperimentConfig config)
            implements Serializable {
        String describe() {
            return String.format("%s to sparsity %.2f (%s)", method.key(), sparsity, id);
        }
    }

    public void run(StageContext ctx) {
        ctx.describe(NAME, "planning pruning runs");
        String denseId = ctx.ids().denseId();
        CheckpointRecord dense = ctx.checkpoints().get(denseId).orElseThrow(() -> new InvalidInputException(
                "The dense checkpoint " + denseId + " is not in " + ctx.warehouse().checkpoints() + "; run the upstream command first"));
        dense.decode(); // verify the checksum here, once, before any task relies on it
        List<Job> wanted = new ArrayList<>();
        for (String name : ctx.config().pruning.methods) {
            PruningMethod method = PruningMethod.parse(name, "pruning.methods");
            if (method == PruningMethod.DENSE) {
                continue;
            }
            for (double sparsity : ctx.config().pruning.sparsities) {
                wanted.add(new Job(ctx.ids().prunedId(method, sparsity), denseId, method, sparsity, ctx.config()));
            }
        }
        Set<String> done = ctx.checkpoints().existing(wanted.stream().map(Job::id).toList());
        List<TrainingJobs.Described<Job>> todo = new ArrayList<>();
        for (Job job : wanted) {
            if (done.contains(job.id())) {
                StageContext.log(NAME, "checkpoint " + job.id() + " exists, skipping");
            } else {
                todo.add(new TrainingJobs.Described<>(job, job.describe()));
            }
        }
        if (todo.isEmpty()) {
            StageContext.log(NAME, "all " + wanted.size() + " pruned checkpoints exist");
            return;
        }
        StageContext.log(NAME, todo.size() + " of " + wanted.size() + " pruning runs to do");
        Broadcast<TaskRegistry.Splits> data = ctx.jsc().broadcast(UpstreamStage.readUpstream(ctx));
        Broadcast<CheckpointRecord> parent = ctx.jsc().broadcast(dense);
        TrainingJobs.run(ctx.jsc(), NAME, todo,
                job -> prune(job, data.value(), parent.value()),
                record -> {
                    ctx.checkpoints().write(List.of(record));
                    StageContext.log(NAME, String.format("stored %s: sparsity %.4f, upstream test top-1 %.2f%%",
                            record.id(), record.actualSparsity(), record.upstreamTop1()));
                });
        data.destroy();
        parent.destroy();
    }

    private static CheckpointRecord prune(Job job, TaskRegistry.Splits splits, CheckpointRecord dense) throws Exception {
        String tag = NAME + " " + job.method().key() + " " + job.sparsity();
        UpstreamExperiment experiment = new UpstreamExperiment(job.config(), splits, Devices.forTask());
        TrainedModel pruned = experiment.prune(job.method(), job.sparsity(), dense.decode().weights(),
                line -> StageContext.log(tag, line));
        return CheckpointRecord.of(job.id(), job.parentId(), job.method().key(), NAME, job.sparsity(), pruned, job.config().name);
    }
}
