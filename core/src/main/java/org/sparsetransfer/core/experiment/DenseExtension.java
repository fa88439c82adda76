package org.sparsetransfer.core.experiment;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import org.sparsetransfer.core.config.ExperimentConfig;
import org.sparsetransfer.core.train.TrainingLoop;
import org.sparsetransfer.core.train.TrainingSchedule;

/**
 * The compute-matched dense control, {@code dense_extended} ({@code controls.dense_extended}):
 * every pruned checkpoint trained some upstream steps beyond the dense model it came from, so a
 * sparse model that beats dense may owe it to the extra training rather than to sparsity. The
 * control continues the dense model with the dense recipe's settings for as many extra steps.
 *
 * <p>Every control must end annealed, as each pruned checkpoint's schedule does: a snapshot taken
 * mid-decay of one long run would be a worse model than its budget buys, and flatter the sparse
 * models beside it. So the continuation is a warmup-stable-decay run: one trunk at the re-warmed
 * upstream.lr, held constant, and for each budget {@code b} a branch leaving the trunk at step
 * {@code b - c} that decays the learning rate linearly to 0 over its {@code c = cooldown x b}
 * steps ({@code controls.cooldown}; 1 makes every control an independent run from the dense
 * model). A branch starts with zero momentum, as every run from a checkpoint does. Each control
 * thus trained exactly its budget, ends at learning rate 0, and the trunk is shared.
 */
public final class DenseExtension {
    /** The controls' label in the tables. */
    public static final String METHOD = "dense_extended";

    private DenseExtension() {}

    /** One budget's control: it leaves the trunk after {@code from} steps and cools down for {@code cooldown} more. */
    public record Branch(int budget, int from, int cooldown) {}

    /** The distinct positive budgets among the pruned checkpoints' training steps, ascending. */
    public static List<Integer> budgets(Collection<Integer> trainSteps) {
        return trainSteps.stream().filter(s -> s > 0).distinct().sorted().toList();
    }

    /** Each budget's branch: a cooldown of {@code max(1, round(cooldown x budget))} steps, ending at the budget. */
    public static List<Branch> branches(Collection<Integer> budgets, double cooldown) {
        if (!(cooldown > 0 && cooldown <= 1)) {
            throw new IllegalArgumentException("cooldown must be in (0, 1], got " + cooldown);
        }
        List<Branch> branches = new ArrayList<>();
        for (int budget : budgets) {
            if (budget <= 0) {
                throw new IllegalArgumentException("a control's budget must be positive, got " + budget);
            }
            int steps = (int) Math.max(1, Math.min(budget, Math.round(cooldown * budget)));
            branches.add(new Branch(budget, budget - steps, steps));
        }
        return branches;
    }

    /** The trunk's length: the last step a branch leaves it at (0: every branch starts from the dense model). */
    public static int trunkSteps(List<Branch> branches) {
        return branches.stream().mapToInt(Branch::from).max().orElse(0);
    }

    /** The trunk's schedule: {@code steps} steps at the re-warmed upstream.lr, held constant. */
    public static TrainingSchedule trunk(ExperimentConfig config, int steps) {
        float lr = config.upstream.lr;
        return TrainingSchedule.fixedMask(steps, (step, total) -> lr);
    }

    /** A branch's cooldown: its steps, the learning rate decayed linearly from upstream.lr to 0. */
    public static TrainingSchedule cooldown(ExperimentConfig config, Branch branch) {
        return TrainingSchedule.fixedMask(branch.cooldown(), TrainingSchedule.LearningRate.linear(config.upstream.lr, 0f));
    }

    /** The dense recipe's optimizer and batch for the trunk, with a seed of its own (a new pass over the data, as a method's run has). */
    public static TrainingLoop.Settings trunkSettings(ExperimentConfig config) {
        return settings(config, UpstreamSchedules.runSeed(config.seed, METHOD, 0));
    }

    /** The same for a branch: a seed per budget, so branches leaving the trunk together see their own batches. */
    public static TrainingLoop.Settings branchSettings(ExperimentConfig config, Branch branch) {
        return settings(config, UpstreamSchedules.runSeed(config.seed, METHOD + "/cooldown-" + branch.budget(), 0));
    }

    private static TrainingLoop.Settings settings(ExperimentConfig config, long seed) {
        ExperimentConfig.Upstream u = config.upstream;
        return new TrainingLoop.Settings(u.batchSize, u.momentum, u.weightDecay, seed);
    }
}
