package org.sparsetransfer.core.method;

import org.sparsetransfer.core.config.ConfigLoader;
import org.sparsetransfer.core.config.ExperimentConfig;
import org.sparsetransfer.core.config.RunLength;
import org.sparsetransfer.core.experiment.UpstreamSchedules;
import org.sparsetransfer.core.model.Weights;
import org.sparsetransfer.core.prune.GmpSchedule;
import org.sparsetransfer.core.prune.MagnitudePruner;
import org.sparsetransfer.core.prune.MaskUpdater;
import org.sparsetransfer.core.train.TrainingLoop;
import org.sparsetransfer.core.train.TrainingSchedule;

/**
 * GMP* (Kurtic and Alistarh 2022, "GMP*: Well-Tuned Gradual Magnitude Pruning Can Outperform Most
 * BERT-Pruning Methods"), as Iofinova et al. tune it: from the dense model, a jump to
 * initial_sparsity at the first pruning step, cubic to the target, the learning rate re-warmed at
 * every pruning step; optionally distilled from the dense model (hardness > 0).
 */
final class GmpStarMethod extends SingleRunMethod<GmpStarMethod.Recipe> {
    /** Section pruning.gmp_star. */
    public static final class Recipe extends GmpMethod.CubicRecipe {
        private static final long serialVersionUID = 1L;
        /** Dense training before the first pruning step: {@code warmup_steps} or {@code warmup_epochs}. */
        @ExperimentConfig.Alternative("warmupEpochs")
        public Integer warmupSteps = 0;
        @ExperimentConfig.Alternative("warmupSteps")
        public Double warmupEpochs;
        public double initialSparsity = 0.7;
        public float lrMin = 0.0f;
        /** Weight of the distillation loss from the dense upstream model; 0 turns distillation off. */
        public float hardness = 0.0f;
        public float temperature = 2.0f;

        public RunLength warmup() {
            return RunLength.of(warmupSteps, warmupEpochs);
        }
    }

    GmpStarMethod() {
        super("gmp_star", MethodFamily.MAGNITUDE, Recipe.class, Recipe::new, 3);
    }

    @Override
    Start start() {
        return Start.DENSE_MODEL;
    }

    @Override
    public void validate(ExperimentConfig config, String source) {
        Recipe g = recipe(config);
        if (!(g.initialSparsity >= 0 && g.initialSparsity < 1)) {
            throw ConfigLoader.bad(source, at("initial_sparsity"), g.initialSparsity, "a sparsity in [0, 1)");
        }
        ConfigLoader.length(source, "pruning.gmp_star", "warmup_steps", "warmup_epochs", g.warmup(), true);
        ConfigLoader.nonNegative(source, at("lr_min"), g.lrMin);
        g.validate(source, "pruning.gmp_star");
        if (!(g.hardness >= 0 && g.hardness <= 1)) {
            throw ConfigLoader.bad(source, at("hardness"), g.hardness, "a weight in [0, 1] (0 turns distillation off)");
        }
        ConfigLoader.positive(source, at("temperature"), g.temperature);
    }

    @Override
    TrainingSchedule schedule(Recipe r, UpstreamSchedules schedules, double target) {
        return r.cubic(GmpSchedule.star(target), schedules).initialSparsity(r.initialSparsity)
                .warmupSteps(schedules.pruningSteps(r.warmup())).learningRate(r.lrMax, r.lrMin).build();
    }

    @Override
    MaskUpdater updater(Recipe r, UpstreamSchedules schedules) {
        return MagnitudePruner.of(schedules.config().pruning.criterion);
    }

    @Override
    TrainingLoop.Settings settings(Recipe r, UpstreamSchedules schedules, double target) {
        return super.settings(r, schedules, target).distilling(new TrainingLoop.Distillation(r.hardness, r.temperature));
    }

    @Override
    Weights teacher(Recipe r, Weights dense) {
        return r.hardness > 0 ? dense : null;
    }

    @Override
    String lengths(Recipe r, UpstreamSchedules schedules) {
        return "warm-up " + length(r.warmup(), schedules.pruningSteps(r.warmup())) + ", " + r.lengths(schedules);
    }
}
