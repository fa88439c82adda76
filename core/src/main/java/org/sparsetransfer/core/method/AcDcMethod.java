package org.sparsetransfer.core.method;

import java.util.OptionalDouble;
import org.sparsetransfer.core.config.ConfigLoader;
import org.sparsetransfer.core.config.ExperimentConfig;
import org.sparsetransfer.core.config.RunLength;
import org.sparsetransfer.core.experiment.UpstreamSchedules;
import org.sparsetransfer.core.model.Weights;
import org.sparsetransfer.core.prune.MagnitudePruner;
import org.sparsetransfer.core.prune.Mask;
import org.sparsetransfer.core.prune.MaskUpdater;
import org.sparsetransfer.core.train.TrainingSchedule;

/**
 * AC/DC, Alternating Compressed/DeCompressed training (Peste, Iofinova, Vladu and Alistarh 2021),
 * trained from the dense run's initialization as in the paper: a dense warm-up; then
 * {@code cycles} pairs of a compressed phase (a magnitude top-k mask at the target, fixed for
 * the phase: sparse training) and a decompressed phase (the mask lifted: dense training, the
 * weights pruned before restarting from zero); then a final, longer compressed phase. The
 * checkpoint is the sparse model at its end. The learning rate follows a cosine decay from
 * {@code lr} to 0 over the whole run.
 *
 * <p>Defaults are the shape of the paper's ImageNet recipe (a dense warm-up, equal short phases,
 * a final compressed phase about three phases long) at the demo's scale; give them in epochs for
 * a faithful run (conf/paper-resnet50.yaml: 10 warm-up epochs, 5-epoch phases, a 15-epoch final
 * phase).
 */
final class AcDcMethod extends SingleRunMethod<AcDcMethod.Recipe> {
    /** Section pruning.acdc; each length in steps or in epochs of the upstream training split. */
    public static final class Recipe implements MethodRecipe {
        private static final long serialVersionUID = 1L;
        /** Dense training from the initialization before the first compressed phase. */
        @ExperimentConfig.Alternative("warmupEpochs")
        public Integer warmupSteps = 100;
        @ExperimentConfig.Alternative("warmupSteps")
        public Double warmupEpochs;
        /** One compressed phase. */
        @ExperimentConfig.Alternative("compressedEpochs")
        public Integer compressedSteps = 50;
        @ExperimentConfig.Alternative("compressedSteps")
        public Double compressedEpochs;
        /** One decompressed phase. */
        @ExperimentConfig.Alternative("decompressedEpochs")
        public Integer decompressedSteps = 50;
        @ExperimentConfig.Alternative("decompressedSteps")
        public Double decompressedEpochs;
        /** Compressed-then-decompressed pairs between the warm-up and the final phase. */
        public int cycles = 3;
        /** The final compressed phase (sparse fine-tuning at the target). */
        @ExperimentConfig.Alternative("finalEpochs")
        public Integer finalSteps = 150;
        @ExperimentConfig.Alternative("finalSteps")
        public Double finalEpochs;
        /** Peak learning rate (cosine decay to 0). */
        public float lr = 0.05f;

        public RunLength warmup() {
            return RunLength.of(warmupSteps, warmupEpochs);
        }

        public RunLength compressed() {
            return RunLength.of(compressedSteps, compressedEpochs);
        }

        public RunLength decompressed() {
            return RunLength.of(decompressedSteps, decompressedEpochs);
        }

        public RunLength finalPhase() {
            return RunLength.of(finalSteps, finalEpochs);
        }
    }

    AcDcMethod() {
        super("acdc", MethodFamily.REGULARIZATION, Recipe.class, Recipe::new, 1);
    }

    @Override
    Start start() {
        return Start.INITIALIZATION;
    }

    @Override
    public void validate(ExperimentConfig config, String source) {
        Recipe r = recipe(config);
        ConfigLoader.length(source, "pruning.acdc", "warmup_steps", "warmup_epochs", r.warmup(), true);
        ConfigLoader.length(source, "pruning.acdc", "compressed_steps", "compressed_epochs", r.compressed(), false);
        ConfigLoader.length(source, "pruning.acdc", "decompressed_steps", "decompressed_epochs", r.decompressed(), false);
        ConfigLoader.length(source, "pruning.acdc", "final_steps", "final_epochs", r.finalPhase(), false);
        ConfigLoader.nonNegative(source, at("cycles"), r.cycles);
        ConfigLoader.positive(source, at("lr"), r.lr);
    }

    @Override
    TrainingSchedule schedule(Recipe r, UpstreamSchedules s, double target) {
        return new Phases(s.pruningSteps(r.warmup()), s.pruningSteps(r.compressed()), s.pruningSteps(r.decompressed()), r.cycles,
                s.pruningSteps(r.finalPhase()), r.lr, target);
    }

    @Override
    MaskUpdater updater(Recipe r, UpstreamSchedules schedules) {
        return new Alternation(MagnitudePruner.of(schedules.config().pruning.criterion));
    }

    @Override
    String lengths(Recipe r, UpstreamSchedules s) {
        return "warm-up " + length(r.warmup(), s.pruningSteps(r.warmup())) + ", " + r.cycles + " x (compressed "
                + length(r.compressed(), s.pruningSteps(r.compressed())) + ", decompressed "
                + length(r.decompressed(), s.pruningSteps(r.decompressed())) + "), final compressed "
                + length(r.finalPhase(), s.pruningSteps(r.finalPhase())) + ", from the initialization";
    }

    /**
     * The phases as a schedule: before each compressed phase's first step a mask update to the
     * target, before each decompressed phase's an update to sparsity 0 (the mask lifted).
     */
    record Phases(int warmup, int compressed, int decompressed, int cycles, int finalPhase, float lr, double target)
            implements TrainingSchedule {
        @Override
        public int totalSteps() {
            return Math.addExact(Math.addExact(warmup, Math.multiplyExact(cycles, Math.addExact(compressed, decompressed))), finalPhase);
        }

        @Override
        public float learningRate(int step) {
            int total = totalSteps();
            return total <= 1 ? lr : (float) (lr / 2 * (1 + Math.cos(Math.PI * step / (total - 1))));
        }

        @Override
        public OptionalDouble pruneBefore(int step) {
            int offset = step - warmup;
            if (offset < 0) {
                return OptionalDouble.empty();
            }
            int cycle = compressed + decompressed;
            if (offset >= cycles * cycle) {
                return offset == cycles * cycle ? OptionalDouble.of(target) : OptionalDouble.empty(); // the final phase
            }
            int within = offset % cycle;
            return within == 0 ? OptionalDouble.of(target) : within == compressed ? OptionalDouble.of(0.0) : OptionalDouble.empty();
        }
    }

    /**
     * A compressed phase's mask is the magnitude top-k of all weights (the lifted mask let every
     * weight train); a decompressed phase's keeps everything.
     */
    record Alternation(MagnitudePruner pruner) implements MaskUpdater {
        @Override
        public Mask update(int step, double target, Weights weights, Mask current, Weights gradient) {
            Mask lifted = Mask.dense(weights, current.tensorNames());
            return target == 0.0 ? lifted : pruner.prune(weights, lifted, target);
        }

        @Override
        public String describe() {
            return "acdc-" + pruner.describe();
        }
    }
}
