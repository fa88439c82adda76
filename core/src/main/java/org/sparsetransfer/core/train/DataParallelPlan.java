package org.sparsetransfer.core.train;

import java.util.ArrayList;
import java.util.List;
import java.util.OptionalDouble;
import java.util.TreeMap;

/**
 * Local SGD (periodic model averaging) of one training schedule over N workers. The schedule's
 * batch is the global batch: each of the N workers takes batch / N examples per step, so a step
 * sees as many examples as one worker's step would and the schedule keeps its number of steps
 * and learning rates. Each round, every worker trains H local steps on its shard from the same
 * weights, then the weights are averaged (H = 1 is synchronous SGD with the global batch).
 * Rounds also end before every pruning step and at extra boundaries (e.g. IMP's rewind step,
 * a one-worker run's state saves): the new mask is computed once from the averaged weights and
 * shared by all workers, so masks stay exact.
 */
public final class DataParallelPlan {
    private final TrainingSchedule schedule;
    private final List<Round> rounds;

    /**
     * One round: steps [firstStep, firstStep + steps); {@code pruneBefore} is the sparsity the
     * averaged weights are pruned to before it, if any.
     */
    public record Round(int index, int firstStep, int steps, OptionalDouble pruneBefore) {}

    private DataParallelPlan(TrainingSchedule schedule, List<Round> rounds) {
        this.schedule = schedule;
        this.rounds = rounds;
    }

    /**
     * @param localSteps steps between averagings of more than one worker (one worker needs none)
     * @param extraBoundaries steps at which a round must end (their averaged weights are wanted); -1 and steps outside the run are ignored
     */
    public static DataParallelPlan of(TrainingSchedule schedule, int workers, int localSteps, int... extraBoundaries) {
        if (localSteps < 1) {
            throw new IllegalArgumentException("local steps must be positive, got " + localSteps);
        }
        if (workers < 1) {
            throw new IllegalArgumentException("workers must be positive, got " + workers);
        }
        int total = schedule.totalSteps();
        int roundSteps = workers == 1 ? Math.max(1, total) : localSteps;
        TreeMap<Integer, OptionalDouble> boundaries = new TreeMap<>();
        boundaries.put(0, OptionalDouble.empty());
        for (int step = 0; step < total; step++) {
            OptionalDouble prune = schedule.pruneBefore(step);
            if (prune.isPresent()) {
                boundaries.put(step, prune);
            }
        }
        for (int extraBoundary : extraBoundaries) {
            if (extraBoundary > 0 && extraBoundary < total) {
                boundaries.putIfAbsent(extraBoundary, OptionalDouble.empty());
            }
        }
        List<Round> rounds = new ArrayList<>();
        List<Integer> starts = new ArrayList<>(boundaries.keySet());
        for (int b = 0; b < starts.size(); b++) {
            int end = b + 1 < starts.size() ? starts.get(b + 1) : total;
            for (int first = starts.get(b); first < end; first += Math.min(roundSteps, end - first)) {
                OptionalDouble prune = first == starts.get(b) ? boundaries.get(first) : OptionalDouble.empty();
                rounds.add(new Round(rounds.size(), first, Math.min(roundSteps, end - first), prune));
            }
        }
        return new DataParallelPlan(schedule, List.copyOf(rounds));
    }

    /** Worker {@code worker}'s shard of {@code size} examples: every N-th one starting at the worker's index. */
    public static int[] shard(int size, int workers, int worker) {
        int[] indices = new int[(size - worker + workers - 1) / workers];
        for (int k = 0; k < indices.length; k++) {
            indices[k] = worker + k * workers;
        }
        return indices;
    }

    /**
     * The seed of worker {@code worker}'s batch order and augmentation over its shard, the same in
     * every round (each round continues the order). Worker 0 keeps the run's seed, so a one-worker
     * run shuffles as the run's settings say.
     */
    public static long workerSeed(long runSeed, int worker) {
        return runSeed + worker * 0x9E3779B97F4A7C15L;
    }

    /** Each worker's batch for a global batch of {@code batch} over {@code workers} (the last may round up). */
    public static int workerBatch(int batch, int workers) {
        return Math.max(1, (batch + workers - 1) / workers);
    }

    public List<Round> rounds() {
        return rounds;
    }

    /** The step a round ends at (for matching e.g. a rewind step). */
    public static int stepAfter(Round round) {
        return round.firstStep() + round.steps();
    }

    /** The schedule's learning rates of {@code round}'s steps. */
    public float[] learningRates(Round round) {
        float[] rates = new float[round.steps()];
        for (int s = 0; s < rates.length; s++) {
            rates[s] = schedule.learningRate(round.firstStep() + s);
        }
        return rates;
    }

    /** What a worker runs in {@code round}: its steps, with the schedule's learning rates, and no pruning. */
    public TrainingSchedule roundSchedule(Round round) {
        return TrainingSchedule.ofRates(learningRates(round));
    }
}
