package org.sparsetransfer.core.method;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;
import org.sparsetransfer.core.config.ExperimentConfig;
import org.sparsetransfer.core.config.RunLength;
import org.sparsetransfer.core.experiment.TrainedModel;
import org.sparsetransfer.core.experiment.UpstreamSchedules;
import org.sparsetransfer.core.model.Weights;
import org.sparsetransfer.core.prune.Mask;
import org.sparsetransfer.core.prune.MaskUpdater;
import org.sparsetransfer.core.train.LocalSgd;
import org.sparsetransfer.core.train.TrainingLoop;
import org.sparsetransfer.core.train.TrainingSchedule;

/**
 * A method that makes each target's checkpoint with one training of its own, all targets at
 * once: from the dense model (pruning methods) or from the dense run's initialization
 * (sparse-training methods, whose recipe is a whole training), with a schedule whose mask
 * updates its {@link MaskUpdater} makes.
 */
abstract class SingleRunMethod<R extends MethodRecipe> extends RecipeMethod<R> {
    /** Where the training starts. */
    enum Start {
        /** The trained dense model (its checkpoint is the parent). */
        DENSE_MODEL,
        /** The dense run's initialization, theta_0: the method trains from scratch. */
        INITIALIZATION
    }

    SingleRunMethod(String key, MethodFamily family, Class<R> recipeType, Supplier<R> defaults, int semantics) {
        super(key, family, recipeType, defaults, semantics);
    }

    abstract Start start();

    /** The training that makes the checkpoint at {@code target}. */
    abstract TrainingSchedule schedule(R recipe, UpstreamSchedules schedules, double target);

    /** How the training's mask changes where its schedule says. */
    abstract MaskUpdater updater(R recipe, UpstreamSchedules schedules);

    /** Its lengths in words (the dry run), e.g. "fine-tuning 200 steps". */
    abstract String lengths(R recipe, UpstreamSchedules schedules);

    /** Optimizer and batching settings of the run to {@code target}: the pruning recipe's, seeded by the key and target. */
    TrainingLoop.Settings settings(R recipe, UpstreamSchedules schedules, double target) {
        return schedules.pruneSettings(key(), target);
    }

    /** Says what the run starts from, before it trains (e.g. N:M's tensors the pattern leaves out); nothing by default. */
    void describeStart(R recipe, Weights start, Mask mask, TrainingLoop.Progress progress) {}

    /** The teacher the run distills from, or null: none by default. */
    Weights teacher(R recipe, Weights dense) {
        return null;
    }

    @Override
    public MethodPlan plan(UpstreamSchedules schedules) {
        R recipe = recipe(schedules.config());
        List<Double> targets = targets(schedules.config());
        long steps = 0;
        for (double target : targets) {
            steps += schedule(recipe, schedules, target).totalSteps();
        }
        return new MethodPlan(targets.size(), steps, false, key() + " x " + targets.size(), lengths(recipe, schedules));
    }

    @Override
    public List<PruningRun.Work> work(PruningRun run, List<Double> missing) {
        List<PruningRun.Work> units = new ArrayList<>();
        for (double target : missing) {
            units.add(new PruningRun.Work(String.format(Locale.ROOT, "%s to sparsity %.2f", key(), target), () -> train(run, target)));
        }
        return units;
    }

    private void train(PruningRun run, double target) throws Exception {
        R recipe = recipe(run.config());
        String id = run.ids().prunedId(this, target);
        String tag = "prune " + key() + " " + target;
        Weights dense = run.dense().weights();
        Weights start = switch (start()) {
            case DENSE_MODEL -> dense;
            case INITIALIZATION -> run.initialWeights();
        };
        Mask mask = run.denseMask();
        describeStart(recipe, start, mask, run.progress(tag));
        LocalSgd.Result result = run.trainer(tag, PruningRun.Rows.WHOLE_SPLIT, id).train(schedule(recipe, run.schedules(), target),
                updater(recipe, run.schedules()), settings(recipe, run.schedules(), target), start, mask, teacher(recipe, dense), -1);
        TrainedModel model = run.score(tag, result);
        run.store(this, PruningRun.Made.scored(id, run.dense().id(), "prune", target, model, PruningRun.Cost.NONE));
    }

    /** "200 steps", or "2 epochs = 860 steps". */
    static String length(RunLength length, long steps) {
        return length.inEpochs() ? String.format(Locale.ROOT, "%s = %,d steps", length.describe(), steps)
                : String.format(Locale.ROOT, "%,d steps", steps);
    }
}
