package org.sparsetransfer.core.method;

import org.sparsetransfer.core.config.ConfigLoader;
import org.sparsetransfer.core.config.ExperimentConfig;
import org.sparsetransfer.core.config.RunLength;
import org.sparsetransfer.core.experiment.UpstreamSchedules;
import org.sparsetransfer.core.prune.Criterion;
import org.sparsetransfer.core.prune.GmpSchedule;
import org.sparsetransfer.core.prune.MagnitudePruner;
import org.sparsetransfer.core.prune.MaskUpdater;
import org.sparsetransfer.core.train.TrainingSchedule;

/**
 * Classic gradual magnitude pruning (Zhu and Gupta 2017, "To prune, or not to prune"): from the
 * dense model, cubic sparsity from 0 to the target over n intervals, then recovery; one linear LR
 * decay; layer-wise by default, as in the paper.
 */
final class GmpMethod extends SingleRunMethod<GmpMethod.Recipe> {
    /** What classic GMP and GMP* share: the cubic schedule's pruning steps and the LR peak. */
    public abstract static class CubicRecipe implements MethodRecipe {
        private static final long serialVersionUID = 1L;
        /** Pruning intervals after the first pruning step. */
        public int pruningSteps = 8;
        /** The length of one interval: {@code interval} steps or {@code interval_epochs}. */
        @ExperimentConfig.Alternative("intervalEpochs")
        public Integer interval = 50;
        @ExperimentConfig.Alternative("interval")
        public Double intervalEpochs;
        /** Training after the last pruning step: {@code recovery_steps} or {@code recovery_epochs}. */
        @ExperimentConfig.Alternative("recoveryEpochs")
        public Integer recoverySteps = 200;
        @ExperimentConfig.Alternative("recoverySteps")
        public Double recoveryEpochs;
        public float lrMax = 0.02f;

        public RunLength interval() {
            return RunLength.of(interval, intervalEpochs);
        }

        public RunLength recovery() {
            return RunLength.of(recoverySteps, recoveryEpochs);
        }

        /** The schedule's cubic part in steps of the upstream split. */
        GmpSchedule.Builder cubic(GmpSchedule.Builder builder, UpstreamSchedules schedules) {
            return builder.pruningSteps(pruningSteps).interval(schedules.pruningSteps(interval()))
                    .recoverySteps(schedules.pruningSteps(recovery()));
        }

        void validate(String source, String section) {
            ConfigLoader.nonNegative(source, section + ".pruning_steps", pruningSteps);
            ConfigLoader.length(source, section, "interval", "interval_epochs", interval(), false);
            ConfigLoader.length(source, section, "recovery_steps", "recovery_epochs", recovery(), true);
            ConfigLoader.positive(source, section + ".lr_max", lrMax);
        }

        String lengths(UpstreamSchedules schedules) {
            return pruningSteps + " intervals of " + length(interval(), schedules.pruningSteps(interval())) + ", recovery "
                    + length(recovery(), schedules.pruningSteps(recovery()));
        }
    }

    /** Section pruning.gmp. */
    public static final class Recipe extends CubicRecipe {
        private static final long serialVersionUID = 1L;
        /** Classic GMP prunes each layer to the same fraction. */
        public Criterion criterion = Criterion.LAYERWISE;
    }

    GmpMethod() {
        super("gmp", MethodFamily.MAGNITUDE, Recipe.class, Recipe::new, 3);
    }

    @Override
    Start start() {
        return Start.DENSE_MODEL;
    }

    @Override
    public void validate(ExperimentConfig config, String source) {
        recipe(config).validate(source, "pruning.gmp");
    }

    @Override
    TrainingSchedule schedule(Recipe r, UpstreamSchedules schedules, double target) {
        return r.cubic(GmpSchedule.classic(target), schedules).learningRate(r.lrMax, 0f).build();
    }

    @Override
    MaskUpdater updater(Recipe r, UpstreamSchedules schedules) {
        return MagnitudePruner.of(r.criterion);
    }

    @Override
    String lengths(Recipe r, UpstreamSchedules schedules) {
        return r.lengths(schedules);
    }
}
