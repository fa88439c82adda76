package org.sparsetransfer.jobs.stages;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.sparsetransfer.core.InvalidInputException;
import org.sparsetransfer.core.config.ExperimentConfig;
import org.sparsetransfer.core.config.ExperimentIds;
import org.sparsetransfer.core.experiment.ExperimentPlan;
import org.sparsetransfer.core.method.PruningMethod;

/**
 * Runs every pruning method of the config from the dense checkpoint, storing each checkpoint as
 * it finishes; existing checkpoints are skipped. What each method trains is its own (core's
 * {@link PruningMethod#work}); this stage asks every method for its units of work for the
 * targets not stored yet and runs them all at once, each training as Spark tasks
 * ({@link SparkPruningRun}).
 */
public final class PruneStage {
    public static final String NAME = "prune";

    private final Set<String> only;

    /** Every method of the config. */
    public PruneStage() {
        this(null);
    }

    /** Only the methods with these keys among the config's (null: all). */
    public PruneStage(Set<String> only) {
        this.only = only;
    }

    /** The config's pruning methods, dense left out (it is the upstream checkpoint). */
    public static List<PruningMethod> methods(ExperimentConfig config) {
        return ExperimentPlan.methods(config);
    }

    /** The warehouse lock scope of pruning with {@code method}. */
    public static String lockScope(PruningMethod method) {
        return NAME + "-" + method.key();
    }

    public void run(StageContext ctx) {
        if (!ctx.config().upstream.enabled) {
            StageContext.log(NAME, "a transfer-only experiment (upstream.enabled: false): nothing to prune");
            return;
        }
        ctx.describe(NAME, "planning pruning runs");
        ExperimentIds ids = ctx.ids();
        String denseId = ids.denseId();
        CheckpointRecord dense = ctx.checkpoints().get(denseId).orElseThrow(() -> new InvalidInputException(
                "The dense checkpoint " + denseId + " is not in " + ctx.warehouse().checkpoints() + "; run the upstream command first"));
        dense.decode(); // verify the checksum here, once, before any task relies on it
        ctx.trainingStates().clearFinished(scopes -> ctx.checkpoints().existing(scopes));
        List<PruningMethod> methods = methods(ctx.config()).stream().filter(m -> only == null || only.contains(m.key())).toList();
        List<String> wanted = new ArrayList<>();
        methods.forEach(method -> method.targets(ctx.config()).forEach(s -> wanted.add(ids.prunedId(method, s))));
        Set<String> done = ctx.checkpoints().existing(wanted);
        if (done.size() == wanted.size()) {
            StageContext.log(NAME, "all " + wanted.size() + " pruned checkpoints exist");
            return;
        }
        done.forEach(id -> StageContext.log(NAME, "checkpoint " + id + " exists, skipping"));
        StageContext.log(NAME, (wanted.size() - done.size()) + " of " + wanted.size() + " pruned checkpoints to make");

        SparkPruningRun run = new SparkPruningRun(ctx, dense, UpstreamData.locate(ctx));
        List<TrainingJobs.Described> units = new ArrayList<>();
        for (PruningMethod method : methods) {
            List<Double> missing = method.targets(ctx.config()).stream().filter(s -> !done.contains(ids.prunedId(method, s))).toList();
            if (!missing.isEmpty()) {
                method.work(run, missing).forEach(work -> units.add(SparkPruningRun.described(work)));
            }
        }
        TrainingJobs.run(ctx.jsc(), NAME, units);
    }
}
