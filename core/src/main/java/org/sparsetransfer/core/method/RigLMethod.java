package org.sparsetransfer.core.method;

import com.fasterxml.jackson.annotation.JsonValue;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalDouble;
import org.sparsetransfer.core.config.Choice;
import org.sparsetransfer.core.config.ConfigLoader;
import org.sparsetransfer.core.config.ExperimentConfig;
import org.sparsetransfer.core.config.RunLength;
import org.sparsetransfer.core.experiment.UpstreamSchedules;
import org.sparsetransfer.core.model.Weights;
import org.sparsetransfer.core.prune.LayerDensity;
import org.sparsetransfer.core.prune.Mask;
import org.sparsetransfer.core.prune.MaskUpdater;
import org.sparsetransfer.core.prune.RigLUpdate;
import org.sparsetransfer.core.train.TrainingSchedule;
import org.sparsetransfer.core.train.TrainingSchedule.LearningRate;

/**
 * RigL, Rigging the Lottery (Evci, Gale, Menick, Castro and Elsen 2020): sparse from the first
 * step at the target, trained from the dense run's initialization. The layers' densities follow
 * the Erdős-Rényi-Kernel (or uniform) distribution, the initial mask is random; every
 * {@code delta_t} steps each layer drops the fraction {@code alpha} (cosine-decayed) of its
 * active weights with the smallest magnitude and regrows as many inactive ones with the largest
 * dense-gradient magnitude, regrown weights starting at zero; updates stop at
 * {@code end_fraction} of training. Every layer keeps its count, so the sparsity is the target's
 * throughout. Under data-parallel training an update ends a local-SGD round and uses the dense
 * gradient of the averaged model on one global batch.
 *
 * <p>Defaults are the paper's (delta_t 100, alpha 0.3, end at 75% of training, ERK); the
 * learning rate decays linearly from {@code lr} to 0, as this pipeline's other recipes.
 */
final class RigLMethod extends SingleRunMethod<RigLMethod.Recipe> {
    /** How the target is spread over layers. */
    public enum Distribution implements Choice.Named {
        ERK("erk", LayerDensity.Distribution.ERK),
        UNIFORM("uniform", LayerDensity.Distribution.UNIFORM);

        private final String key;
        private final LayerDensity.Distribution density;

        Distribution(String key, LayerDensity.Distribution density) {
            this.key = key;
            this.density = density;
        }

        @JsonValue
        @Override
        public String key() {
            return key;
        }
    }

    /** Section pruning.rigl. */
    public static final class Recipe implements MethodRecipe {
        private static final long serialVersionUID = 1L;
        /** The whole training: {@code steps} or {@code epochs}. */
        @ExperimentConfig.Alternative("epochs")
        public Integer steps = 600;
        @ExperimentConfig.Alternative("steps")
        public Double epochs;
        public float lr = 0.05f;
        /** Steps between connectivity updates. */
        public int deltaT = 100;
        /** Fraction of each layer's active weights the first update swaps (cosine-decayed after). */
        public double alpha = 0.3;
        /** Fraction of training after which the mask stays fixed. */
        public double endFraction = 0.75;
        public Distribution distribution = Distribution.ERK;

        public RunLength length() {
            return RunLength.of(steps, epochs);
        }
    }

    RigLMethod() {
        super("rigl", MethodFamily.REGROWTH, Recipe.class, Recipe::new, 1);
    }

    @Override
    Start start() {
        return Start.INITIALIZATION;
    }

    @Override
    public void validate(ExperimentConfig config, String source) {
        Recipe r = recipe(config);
        ConfigLoader.length(source, "pruning.rigl", "steps", "epochs", r.length(), false);
        ConfigLoader.positive(source, at("lr"), r.lr);
        ConfigLoader.positive(source, at("delta_t"), r.deltaT);
        ConfigLoader.fraction(source, at("alpha"), r.alpha);
        ConfigLoader.fraction(source, at("end_fraction"), r.endFraction);
    }

    @Override
    TrainingSchedule schedule(Recipe r, UpstreamSchedules s, double target) {
        return new Updates(s.pruningSteps(r.length()), r.deltaT, endStep(r, s), r.lr, target);
    }

    @Override
    MaskUpdater updater(Recipe r, UpstreamSchedules schedules) {
        int endStep = endStep(r, schedules);
        return new DropAndGrow(r.alpha, r.distribution, UpstreamSchedules.runSeed(schedules.config().seed, key(), 0), endStep);
    }

    /** The step from which the mask stays fixed. */
    private static int endStep(Recipe r, UpstreamSchedules s) {
        return (int) Math.floor(r.endFraction * s.pruningSteps(r.length()));
    }

    @Override
    String lengths(Recipe r, UpstreamSchedules s) {
        return length(r.length(), s.pruningSteps(r.length())) + " from the initialization, " + r.distribution.key()
                + " densities, updates every " + r.deltaT + " steps until " + Math.round(100 * r.endFraction) + "% of training";
    }

    /** The random mask before step 0, then an update every delta_t steps before the end step (all at the target). */
    record Updates(int totalSteps, int deltaT, int endStep, float lr, double target) implements TrainingSchedule {
        @Override
        public float learningRate(int step) {
            return LearningRate.linear(lr, 0f).at(step, totalSteps);
        }

        @Override
        public OptionalDouble pruneBefore(int step) {
            return step == 0 || (step % deltaT == 0 && step < endStep) ? OptionalDouble.of(target) : OptionalDouble.empty();
        }
    }

    /**
     * Before step 0 (the mask is dense then): the random mask with the distribution's counts; at
     * each later update: drop and grow, the fraction cosine-decayed from alpha at step 0 to 0 at
     * the end step.
     */
    record DropAndGrow(double alpha, Distribution distribution, long seed, int endStep) implements MaskUpdater {
        @Override
        public Mask update(int step, double target, Weights weights, Mask current, Weights gradient) {
            if (current.prunedCount() == 0) {
                Map<String, long[]> shapes = new LinkedHashMap<>();
                current.tensorNames().forEach(name -> shapes.put(name, weights.get(name).shape()));
                return LayerDensity.randomMask(weights, current.tensorNames(), LayerDensity.keptCounts(shapes, target,
                        distribution.density), seed);
            }
            if (gradient == null) {
                throw new IllegalStateException("a RigL update needs the dense gradient; train it through LocalSgd");
            }
            return RigLUpdate.update(weights, gradient, current, RigLUpdate.dropFraction(alpha, step, endStep)).mask();
        }

        @Override
        public boolean needsGradient() {
            return true;
        }

        @Override
        public String describe() {
            return "rigl-" + distribution.key() + "-" + alpha + "-" + endStep + "-" + seed;
        }
    }
}
