package org.sparsetransfer.jobs.stages;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.sparsetransfer.core.InvalidInputException;
import org.sparsetransfer.core.config.ExperimentConfig;
import org.sparsetransfer.core.experiment.DenseExtension;
import org.sparsetransfer.core.experiment.ExperimentPlan;
import org.sparsetransfer.core.experiment.TrainedModel;
import org.sparsetransfer.core.method.MethodFamily;
import org.sparsetransfer.core.method.PruningMethod;
import org.sparsetransfer.core.model.Weights;
import org.sparsetransfer.core.train.LocalSgd;

/**
 * The compute-matched dense control ({@code controls.dense_extended}), after the prune stage (the
 * budgets are the pruned checkpoints' training steps, and COLT's are known only once it ran): the
 * dense model continued along a constant-rate trunk, with a cooldown branch to each budget
 * ({@link DenseExtension}), as Spark tasks like every upstream training; each control is scored on
 * the upstream splits and stored at once as a checkpoint (parent: the dense model). A rerun skips
 * stored controls. After a kill the trunk and the branch it was in resume from their saved
 * training states: a branch runs inside the trunk's round end at its start step, before the trunk
 * saves a state there, so a trunk resumed past a branch's start has stored that branch's control.
 */
public final class ControlStage {
    public static final String NAME = "control";

    public void run(StageContext ctx) {
        ExperimentConfig config = ctx.config();
        if (!config.trainsControls()) {
            return;
        }
        ctx.describe(NAME, "planning the dense control");
        Map<Integer, String> ids = ids(ctx);
        if (ids.isEmpty()) {
            StageContext.log(NAME, "no pruned checkpoint trained beyond the dense model: no control to train");
            return;
        }
        List<DenseExtension.Branch> branches = DenseExtension.branches(ids.keySet(), config.controls.cooldown);
        String trunkScope = ids.get(branches.get(branches.size() - 1).budget()) + "-trunk";
        Set<String> stored = ctx.checkpoints().existing(ids.values());
        // States a kill left behind after their control was stored; the trunk's once every control is.
        ctx.trainingStates().clearFinished(scopes -> {
            List<String> finished = new ArrayList<>(stored);
            if (stored.size() == ids.size()) {
                finished.add(trunkScope);
            }
            return finished.stream().filter(scopes::contains).toList();
        });
        if (stored.size() == ids.size()) {
            StageContext.log(NAME, "the " + ids.size() + " dense_extended checkpoints exist (budgets " + ids.keySet() + " steps), skipping");
            return;
        }
        String denseId = ctx.ids().denseId();
        CheckpointRecord dense = ctx.checkpoints().get(denseId).orElseThrow(() -> new InvalidInputException("The dense checkpoint "
                + denseId + " is not in " + ctx.warehouse().checkpoints() + "; run the upstream command first"));
        Weights start = dense.decode().weights();
        UpstreamData data = UpstreamData.locate(ctx);
        int trunk = DenseExtension.trunkSteps(branches);
        StageContext.log(NAME, String.format("training dense_extended for the budgets %s: a trunk of %d steps from the dense model "
                + "(lr %s re-warmed, constant), and for each budget a cooldown branch of %s x budget steps (lr decayed linearly to 0) "
                + "leaving it at budget - cooldown", ids.keySet(), trunk, config.upstream.lr, config.controls.cooldown));
        long begin = System.nanoTime();
        Map<Integer, List<DenseExtension.Branch>> byStart = new TreeMap<>();
        branches.forEach(b -> byStart.computeIfAbsent(b.from(), k -> new ArrayList<>()).add(b));
        LocalSgd.Snapshots.Sink coolAll = (step, weights) -> {
            for (DenseExtension.Branch branch : byStart.getOrDefault(step, List.of())) {
                String id = ids.get(branch.budget());
                if (!stored.contains(id)) {
                    cool(ctx, data, denseId, id, branch, weights, begin);
                }
            }
        };
        TrainingJobs.run(ctx.jsc(), NAME, List.of(new TrainingJobs.Described(() -> {
            coolAll.accept(0, start);
            boolean trunkNeeded = branches.stream().anyMatch(b -> b.from() > 0 && !stored.contains(ids.get(b.budget())));
            if (trunkNeeded) {
                int[] points = byStart.keySet().stream().filter(p -> p > 0).mapToInt(Integer::intValue).toArray();
                DataParallelTraining.withSnapshots(ctx.jsc(), NAME, config, config.upstream.dataParallel,
                        UpstreamData.TrainingRows.wholeSplit(data), ctx.statePolicy(trunkScope), DenseExtension.trunk(config, trunk),
                        DenseExtension.trunkSettings(config), start, new LocalSgd.Snapshots(points, coolAll));
                ctx.trainingStates().clear(trunkScope);
            }
        }, "dense continuation: a trunk of " + trunk + " steps and " + branches.size() + " cooldown branches")));
    }

    /** One control: its cooldown from the trunk's {@code weights}, scored and stored at once. */
    private static void cool(StageContext ctx, UpstreamData data, String denseId, String id, DenseExtension.Branch branch,
            Weights weights, long begin) throws Exception {
        ExperimentConfig config = ctx.config();
        StageContext.log(NAME, String.format("%s: cooling down %d steps from trunk step %d", id, branch.cooldown(), branch.from()));
        LocalSgd.Result cooled = DataParallelTraining.withSnapshots(ctx.jsc(), NAME, config, config.upstream.dataParallel,
                UpstreamData.TrainingRows.wholeSplit(data), ctx.statePolicy(id), DenseExtension.cooldown(config, branch),
                DenseExtension.branchSettings(config, branch), weights, LocalSgd.Snapshots.NONE);
        int steps = branch.budget();
        TrainedModel model = SplitEvaluation.score(ctx.jsc(), NAME, config, data, cooled.weights(), null,
                config.upstream.dataParallel.workers, steps, (long) steps * config.upstream.batchSize, (System.nanoTime() - begin) / 1e9);
        CheckpointRecord record = CheckpointRecord.of(id, denseId, DenseExtension.METHOD, NAME, 0.0, model, config.name)
                .labelled(DenseExtension.METHOD, MethodFamily.DENSE.key());
        TrainingJobs.persist(() -> ctx.checkpoints().write(List.of(record)));
        ctx.trainingStates().clear(id);
        StageContext.log(NAME, String.format("stored %s: %d steps beyond dense, upstream test top-1 %.2f%%", id, steps,
                record.upstreamTop1()));
    }

    /**
     * Each budget's control id: the budgets are the config's pruned checkpoints' training steps
     * (which must be stored); an id hashes its budget and the cooldown fraction.
     */
    static Map<Integer, String> ids(StageContext ctx) {
        List<String> pruned = new ArrayList<>();
        for (PruningMethod method : ExperimentPlan.methods(ctx.config())) {
            for (double sparsity : method.targets(ctx.config())) {
                pruned.add(ctx.ids().prunedId(method, sparsity));
            }
        }
        List<CheckpointRecord> records = ctx.checkpoints().describeAll(pruned, missing -> new InvalidInputException(
                "The dense_extended control matches the pruned checkpoints' training, but " + missing.size() + " of them are not in "
                + ctx.warehouse().checkpoints() + "; run the prune command with this config first"));
        List<Integer> budgets = DenseExtension.budgets(records.stream().map(CheckpointRecord::trainSteps).toList());
        Map<Integer, String> ids = new LinkedHashMap<>();
        budgets.forEach(b -> ids.put(b, ctx.ids().controlId(b, ctx.config().controls.cooldown)));
        return ids;
    }
}
