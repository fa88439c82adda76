package org.sparsetransfer.core.method;

import java.util.ArrayList;
import java.util.List;
import org.sparsetransfer.core.config.ConfigLoader;
import org.sparsetransfer.core.config.ExperimentConfig;
import org.sparsetransfer.core.config.RunLength;
import org.sparsetransfer.core.experiment.UpstreamSchedules;
import org.sparsetransfer.core.model.Weights;
import org.sparsetransfer.core.prune.Mask;
import org.sparsetransfer.core.prune.MaskUpdater;
import org.sparsetransfer.core.prune.NmSparsity;
import org.sparsetransfer.core.prune.OneShotSchedule;
import org.sparsetransfer.core.train.TrainingLoop;
import org.sparsetransfer.core.train.TrainingSchedule;
import org.sparsetransfer.core.train.TrainingSchedule.LearningRate;

/**
 * N:M semi-structured sparsity (Hubara et al. 2021; NVIDIA's 2:4 on Ampere): one-shot from the
 * dense model, every group of M consecutive weights along each prunable tensor's input dimension
 * (a convolution's flattened in_channels x kh x kw per output channel, as hardware kernels group
 * them) keeping (1 - s) x M by magnitude, then fine-tuning with the mask fixed. Tensors whose
 * input size is not a multiple of M, and depthwise convolutions, keep their weights (the run
 * logs which); so the measured sparsity can lie below the target. Its own targets: the multiples
 * of 1/M it is given (default 0.5 and 0.75 with M = 4).
 */
final class NmMethod extends SingleRunMethod<NmMethod.Recipe> {
    /** Section pruning.nm. */
    public static final class Recipe implements MethodRecipe {
        private static final long serialVersionUID = 1L;
        /** M: the group size (4 for 2:4 kernels). */
        public int groupSize = 4;
        /** Its targets, each a multiple of 1/M (pruning.sparsities is not used: most of its values are not). */
        public List<Double> sparsities = new ArrayList<>(List.of(0.5, 0.75));
        @ExperimentConfig.Alternative("epochs")
        public Integer steps = 400;
        @ExperimentConfig.Alternative("steps")
        public Double epochs;
        public float lr = 0.01f;

        public RunLength length() {
            return RunLength.of(steps, epochs);
        }
    }

    NmMethod() {
        super("nm", MethodFamily.SEMI_STRUCTURED, Recipe.class, Recipe::new, 1);
    }

    @Override
    Start start() {
        return Start.DENSE_MODEL;
    }

    @Override
    public List<Double> targets(ExperimentConfig config) {
        return recipe(config).sparsities.stream().distinct().sorted().toList();
    }

    @Override
    public void validate(ExperimentConfig config, String source) {
        Recipe r = recipe(config);
        if (r.groupSize < 2 || r.groupSize > 64) {
            throw ConfigLoader.bad(source, at("group_size"), r.groupSize, "a group size from 2 to 64 (4 for 2:4 kernels)");
        }
        ConfigLoader.nonEmpty(source, at("sparsities"), r.sparsities);
        for (int i = 0; i < r.sparsities.size(); i++) {
            NmSparsity.requireTarget(r.sparsities.get(i), r.groupSize, at("sparsities") + "[" + i + "] in " + source);
        }
        ConfigLoader.length(source, "pruning.nm", "steps", "epochs", r.length(), false);
        ConfigLoader.positive(source, at("lr"), r.lr);
    }

    @Override
    TrainingSchedule schedule(Recipe r, UpstreamSchedules s, double target) {
        return new OneShotSchedule(target, s.pruningSteps(r.length()), LearningRate.linear(r.lr, 0f));
    }

    @Override
    MaskUpdater updater(Recipe r, UpstreamSchedules schedules) {
        return new Groups(r.groupSize);
    }

    @Override
    String lengths(Recipe r, UpstreamSchedules s) {
        return r.groupSize + "-groups, fine-tuning " + length(r.length(), schedule(r, s, 0.5).totalSteps())
                + "; tensors whose input size is not a multiple of " + r.groupSize + ", and depthwise convolutions, stay dense";
    }

    @Override
    void describeStart(Recipe r, Weights start, Mask mask, TrainingLoop.Progress progress) {
        List<String> left = excluded(start, mask, r.groupSize);
        if (!left.isEmpty()) {
            progress.log("N:M with M = " + r.groupSize + " leaves these tensors dense: " + String.join(", ", left));
        }
    }

    /** The N:M mask by magnitude. */
    record Groups(int groupSize) implements MaskUpdater {
        @Override
        public Mask update(int step, double target, Weights weights, Mask current, Weights gradient) {
            return NmSparsity.prune(weights, current, target, groupSize);
        }

        @Override
        public String describe() {
            return "nm-" + groupSize;
        }
    }

    /** The tensors of {@code mask} the pattern leaves out, with the reason: "name (depthwise convolution)". */
    static List<String> excluded(Weights weights, Mask mask, int groupSize) {
        List<String> out = new ArrayList<>();
        for (String name : mask.tensorNames()) {
            String why = NmSparsity.exclusion(weights.get(name).shape(), groupSize);
            if (why != null) {
                out.add(name + " (" + why + ")");
            }
        }
        return out;
    }
}
