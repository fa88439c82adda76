package org.sparsetransfer.core.train;

import java.util.ArrayList;
import java.util.List;
import java.util.OptionalDouble;
import java.util.TreeMap;

/**
 * Local SGD (periodic model averaging) of one training schedule over N workers. Each round,
 * every worker trains H local steps on its shard of the data from the same weights, then the
 * weights are averaged (H = 1 is synchronous SGD). A schedule of T single-worker steps becomes
 * ceil(T / N) worker steps, so N workers together see as many examples as one worker would, and
 * worker step k uses the schedule's learning rate at step k * N. Rounds also end before every
 * pruning step and at {@code extraBoundary} (e.g. IMP's rewind step): the new mask is computed
 * once from the averaged weights and shared by all workers, so masks stay exact.
 */
public final class DataParallelPlan {
    private final TrainingSchedule schedule;
    private final int workers;
    private final List<Round> rounds;

    /**
     * One round: worker steps [firstStep, firstStep + steps); {@code pruneBefore} is the sparsity
     * the averaged weights are pruned to before it, if any.
     */
    public record Round(int index, int firstStep, int steps, OptionalDouble pruneBefore) {}

    private DataParallelPlan(TrainingSchedule schedule, int workers, List<Round> rounds) {
        this.schedule = schedule;
        this.workers = workers;
        this.rounds = rounds;
    }

    /**
     * @param extraBoundary a single-worker step at which a round must end (its averaged weights
     *     are wanted), or -1
     */
    public static DataParallelPlan of(TrainingSchedule schedule, int workers, int localSteps, int extraBoundary) {
        if (workers < 1 || localSteps < 1) {
            throw new IllegalArgumentException("workers and local steps must be positive, got " + workers + " and " + localSteps);
        }
        int total = workerSteps(schedule.totalSteps(), workers);
        TreeMap<Integer, OptionalDouble> boundaries = new TreeMap<>();
        boundaries.put(0, OptionalDouble.empty());
        for (int step = 0; step < schedule.totalSteps(); step++) {
            OptionalDouble prune = schedule.pruneBefore(step);
            if (prune.isPresent()) {
                // Several schedule steps can fall on one worker step: the last (sparsest) target wins.
                boundaries.put(Math.min(total - 1, step / workers), prune);
            }
        }
        if (extraBoundary > 0 && extraBoundary / workers < total) {
            boundaries.putIfAbsent(extraBoundary / workers, OptionalDouble.empty());
        }
        List<Round> rounds = new ArrayList<>();
        List<Integer> starts = new ArrayList<>(boundaries.keySet());
        for (int b = 0; b < starts.size(); b++) {
            int end = b + 1 < starts.size() ? starts.get(b + 1) : total;
            for (int first = starts.get(b); first < end; first += localSteps) {
                OptionalDouble prune = first == starts.get(b) ? boundaries.get(first) : OptionalDouble.empty();
                rounds.add(new Round(rounds.size(), first, Math.min(localSteps, end - first), prune));
            }
        }
        return new DataParallelPlan(schedule, workers, List.copyOf(rounds));
    }

    /** Worker steps that cover {@code singleWorkerSteps} steps' examples. */
    public static int workerSteps(int singleWorkerSteps, int workers) {
        return (singleWorkerSteps + workers - 1) / workers;
    }

    public List<Round> rounds() {
        return rounds;
    }

    public int workers() {
        return workers;
    }

    /** The worker step a round ends at, in single-worker steps (for matching e.g. a rewind step). */
    public int singleWorkerStepAfter(Round round) {
        return (round.firstStep() + round.steps()) * workers;
    }

    /** What a worker runs in {@code round}: its steps, with the schedule's learning rates, and no pruning. */
    public TrainingSchedule roundSchedule(Round round) {
        return new TrainingSchedule() {
            @Override
            public int totalSteps() {
                return round.steps();
            }

            @Override
            public float learningRate(int step) {
                return schedule.learningRate(Math.min(schedule.totalSteps() - 1, (round.firstStep() + step) * workers));
            }
        };
    }
}
