package org.sparsetransfer.core.method;

import org.sparsetransfer.core.config.ConfigLoader;
import org.sparsetransfer.core.config.ExperimentConfig;
import org.sparsetransfer.core.config.RunLength;
import org.sparsetransfer.core.experiment.UpstreamSchedules;
import org.sparsetransfer.core.prune.MagnitudePruner;
import org.sparsetransfer.core.prune.MaskUpdater;
import org.sparsetransfer.core.prune.OneShotSchedule;
import org.sparsetransfer.core.train.TrainingSchedule;
import org.sparsetransfer.core.train.TrainingSchedule.LearningRate;

/** One-shot magnitude pruning of the dense model to the target, then fine-tuning with the mask fixed (linear LR decay). */
final class OneShotMethod extends SingleRunMethod<OneShotMethod.Recipe> {
    /** Section pruning.oneshot: the fine-tuning's length ({@code steps} or {@code epochs}) and peak learning rate. */
    public static final class Recipe implements MethodRecipe {
        private static final long serialVersionUID = 1L;
        @ExperimentConfig.Alternative("epochs")
        public Integer steps = 400;
        @ExperimentConfig.Alternative("steps")
        public Double epochs;
        public float lr = 0.01f;

        public RunLength length() {
            return RunLength.of(steps, epochs);
        }
    }

    OneShotMethod() {
        super("oneshot", MethodFamily.MAGNITUDE, Recipe.class, Recipe::new, 3);
    }

    @Override
    Start start() {
        return Start.DENSE_MODEL;
    }

    @Override
    public void validate(ExperimentConfig config, String source) {
        Recipe r = recipe(config);
        ConfigLoader.length(source, "pruning.oneshot", "steps", "epochs", r.length(), false);
        ConfigLoader.positive(source, at("lr"), r.lr);
    }

    @Override
    TrainingSchedule schedule(Recipe r, UpstreamSchedules schedules, double target) {
        return new OneShotSchedule(target, schedules.pruningSteps(r.length()), LearningRate.linear(r.lr, 0f));
    }

    @Override
    MaskUpdater updater(Recipe r, UpstreamSchedules schedules) {
        return MagnitudePruner.of(schedules.config().pruning.criterion);
    }

    @Override
    String lengths(Recipe r, UpstreamSchedules schedules) {
        return "fine-tuning " + length(r.length(), schedule(r, schedules, 0.5).totalSteps());
    }
}
