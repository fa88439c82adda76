package org.sparsetransfer.core.train;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import org.sparsetransfer.core.InvalidInputException;
import org.sparsetransfer.core.model.WeightSum;
import org.sparsetransfer.core.model.Weights;
import org.sparsetransfer.core.prune.Mask;
import org.sparsetransfer.core.prune.MaskUpdater;

/**
 * The one way an upstream training runs: a schedule as local SGD over N workers, cut into the
 * rounds of a {@link DataParallelPlan}. Dense training and every pruning method's trainings run
 * here, one worker or many; only how a round's workers run differs ({@link Workers}: in this JVM
 * for core's own use, as Spark tasks in {@code jobs}). Between rounds the workers' weights and
 * momentum buffers are averaged, and before a mask update (prune, regrow, lift; a
 * {@link MaskUpdater}) the averaged weights are updated, so all workers share one exact mask; an
 * updater that reads gradients gets the dense gradient of the averaged model on one global batch,
 * computed by the workers ({@link RoundInput#gradientOnly}).
 */
public final class LocalSgd {
    private LocalSgd() {}

    /**
     * What every worker of a round starts from: the averaged weights and momentum buffers (null
     * before the first round), the shared mask (null: dense), the run's steps [firstStep,
     * firstStep + learningRates.length) of {@code runSteps} and their learning rates.
     */
    public record RoundInput(int firstStep, int runSteps, Weights weights, Weights momentum, Mask mask,
            float[] learningRates, boolean gradientOnly) implements Serializable {
        public RoundInput(int firstStep, int runSteps, Weights weights, Weights momentum, Mask mask, float[] learningRates) {
            this(firstStep, runSteps, weights, momentum, mask, learningRates, false);
        }

        /**
         * No training: each worker returns, as its state's weights, the gradient of the loss at
         * {@code weights} (under {@code mask}) on the batch its step {@code firstStep} would take,
         * pruned elements included; the average is the global batch's gradient.
         */
        public static RoundInput gradient(int step, int runSteps, Weights weights, Mask mask) {
            return new RoundInput(step, runSteps, weights, null, mask, new float[0], true);
        }

        /** The round's steps with their learning rates, and no pruning inside. */
        public TrainingSchedule schedule() {
            return TrainingSchedule.ofRates(learningRates);
        }
    }

    /** A worker's weights and momentum buffers after its share of a round. */
    public record RoundState(Weights weights, Weights momentum) implements Serializable {}

    /** The workers' weights and momentum buffers, summed for averaging (an aggregation's accumulator). */
    public record RoundSum(WeightSum weights, WeightSum momentum) implements Serializable {
        public RoundSum() {
            this(new WeightSum(), new WeightSum());
        }

        public RoundSum add(RoundState state) {
            weights.add(state.weights());
            if (state.momentum() != null) { // a gradient round has none
                momentum.add(state.momentum());
            }
            return this;
        }

        public RoundSum merge(RoundSum other) {
            weights.merge(other.weights);
            momentum.merge(other.momentum);
            return this;
        }
    }

    /** Runs one round on every worker and sums their states. */
    @FunctionalInterface
    public interface Workers {
        RoundSum train(RoundInput input) throws Exception;
    }

    /**
     * One training however it is distributed: {@code schedule} from {@code start} under
     * {@code startMask} (null: dense), updating the mask with {@code updater} where the schedule says,
     * distilling from {@code teacher} when not null, keeping the weights after {@code keepAtStep}
     * steps when it is not -1.
     */
    @FunctionalInterface
    public interface Trainer {
        Result train(TrainingSchedule schedule, MaskUpdater updater, TrainingLoop.Settings settings, Weights start, Mask startMask,
                Weights teacher, int keepAtStep) throws Exception;
    }

    /**
     * How one training saves its state: into {@code store} under {@code key} at least every
     * {@code everySteps} steps and at its end (0: never; a training shorter than that saves
     * none), resuming from the latest saved state.
     */
    public record Saving(TrainingState.Store store, String key, int everySteps) {
        public static final Saving NONE = new Saving(null, null, 0);

        public Saving {
            if (everySteps < 0) {
                throw new IllegalArgumentException("a state interval must be positive (0: none), got " + everySteps);
            }
        }

        boolean enabled() {
            return everySteps > 0;
        }
    }

    /**
     * Where the trainings that make one thing (named by {@code scope}, e.g. a checkpoint id) save
     * their states, and how often; each training gets its own key ({@link TrainingState#key}).
     */
    public record StatePolicy(TrainingState.Store store, String scope, int everySteps) {
        public static final StatePolicy NONE = new StatePolicy(null, null, 0);

        /** The saving of one training of this scope. */
        public Saving saving(TrainingSchedule schedule, int workers, int localSteps, TrainingLoop.Settings settings,
                MaskUpdater updater, Weights start, Mask startMask, Weights teacher, int keepAtStep) {
            if (everySteps == 0) {
                return Saving.NONE;
            }
            return new Saving(store, TrainingState.key(scope, schedule, workers, localSteps, settings, updater, start, startMask, teacher,
                    keepAtStep), everySteps);
        }
    }

    /**
     * Weights a training hands over as it passes given steps (the dense control's trunk at each
     * step a cooldown branch leaves it): {@code sink} receives each as a round ends there, before any
     * state is saved at that step, so a training resumed after a kill hands over none it passed
     * before its state and the ones after again.
     */
    public record Snapshots(int[] steps, Sink sink) {
        public static final Snapshots NONE = new Snapshots(new int[0], (step, weights) -> { });

        /** Receives a snapshot. */
        @FunctionalInterface
        public interface Sink {
            void accept(int step, Weights weights) throws Exception;
        }
    }

    /** The trained weights and mask, the weights after {@code keepAtStep} if asked for, the cost and the workers. */
    public record Result(Weights weights, Mask mask, Weights kept, int steps, long examplesSeen, double wallSeconds, int workers) {
        /** This run followed by {@code next} (IMP's rounds): next's weights, both runs' cost. */
        public Result then(Result next) {
            return new Result(next.weights, next.mask, next.kept, steps + next.steps, examplesSeen + next.examplesSeen,
                    wallSeconds + next.wallSeconds, next.workers);
        }
    }

    /**
     * Trains {@code schedule} over {@code workers} workers, resuming from the latest state
     * {@code saving} finds and saving states as it says. With one worker, a state interval cuts
     * rounds at its multiples, which changes no result (each round continues the last exactly);
     * with several, states are saved at the first round end at or after each multiple, so the
     * rounds, and the result, are those of a run that saves nothing.
     *
     * @param batch the schedule's (global) batch; each worker takes {@link DataParallelPlan#workerBatch} of it
     * @param keepAtStep a step whose averaged weights to keep (IMP's rewind point), or -1
     */
    public static Result train(TrainingSchedule schedule, int workers, int localSteps, int batch, MaskUpdater updater,
            Weights start, Mask startMask, int keepAtStep, Saving saving, Workers run, TrainingLoop.Progress progress)
            throws Exception {
        return train(schedule, workers, localSteps, batch, updater, start, startMask, keepAtStep, Snapshots.NONE, saving, run, progress);
    }

    /** As the other {@code train}, handing over the weights at {@code snapshots}' steps as rounds end there (rounds are cut there). */
    public static Result train(TrainingSchedule schedule, int workers, int localSteps, int batch, MaskUpdater updater,
            Weights start, Mask startMask, int keepAtStep, Snapshots snapshots, Saving saving, Workers run, TrainingLoop.Progress progress)
            throws Exception {
        long begin = System.nanoTime();
        int total = schedule.totalSteps();
        TrainingState resumed = saving.enabled() ? saving.store().latest(saving.key()).orElse(null) : null;
        if (resumed != null && (resumed.totalSteps() != total || resumed.step() < 0 || resumed.step() > total)) {
            throw new InvalidInputException("The training state saved under " + saving.key() + " is at step " + resumed.step() + " of "
                    + resumed.totalSteps() + ", not of this training's " + total + " steps; delete the directory " + saving.key()
                    + " under the warehouse's training_states/ to restart that training from its beginning");
        }
        List<Integer> cuts = new ArrayList<>(List.of(keepAtStep));
        for (int step : snapshots.steps()) {
            if (step < 1 || step > total) {
                throw new IllegalArgumentException("a snapshot at step " + step + " of a training of " + total + " steps");
            }
            cuts.add(step);
        }
        if (workers == 1 && saving.enabled()) {
            for (long step = saving.everySteps(); step < total; step += saving.everySteps()) {
                cuts.add((int) step);
            }
            if (resumed != null) {
                cuts.add(resumed.step()); // saved under another interval: a cut of one worker's rounds changes nothing
            }
        }
        DataParallelPlan plan = DataParallelPlan.of(schedule, workers, localSteps, cuts.stream().mapToInt(Integer::intValue).toArray());
        int workerBatch = DataParallelPlan.workerBatch(batch, workers);
        if (workers > 1) {
            progress.log(String.format("data-parallel: %d workers, %d local steps per round, %d rounds of %d steps, batch %d per worker",
                    workers, localSteps, plan.rounds().size(), total, workerBatch));
        }
        // No Mask.apply here or below: each worker's network multiplies its weights by the mask (on
        // load and after every step), as an uninterrupted run does, so the rounds' results equal it
        // bit for bit (the signs of pruned zeros included, except after a resume: a state reads
        // pruned elements back as +0.0, which nothing reads); averaging zeros keeps them zero.
        Weights weights = start;
        Weights momentum = null;
        Mask mask = startMask;
        Weights kept = keepAtStep == 0 ? (startMask == null ? start : startMask.apply(start)) : null;
        double earlierSeconds = 0;
        int resumeStep = 0;
        if (resumed != null) {
            resumeStep = resumed.step();
            if (resumeStep > 0 && plan.rounds().stream().noneMatch(r -> DataParallelPlan.stepAfter(r) == resumed.step())) {
                throw new InvalidInputException("The training state saved under " + saving.key() + " is at step " + resumeStep
                        + ", where no round of this training ends; delete the directory " + saving.key()
                        + " under the warehouse's training_states/ to restart that training from its beginning");
            }
            weights = resumed.weights();
            momentum = resumed.momentum();
            mask = resumed.mask();
            kept = resumed.kept();
            earlierSeconds = resumed.wallSeconds();
            progress.log(String.format("resuming from the training state saved at step %d/%d", resumeStep, total));
        }
        for (DataParallelPlan.Round round : plan.rounds()) {
            int after = DataParallelPlan.stepAfter(round);
            if (after <= resumeStep) {
                continue;
            }
            if (round.pruneBefore().isPresent()) {
                if (updater == null) {
                    throw new IllegalArgumentException("the schedule updates the mask before step " + round.firstStep()
                            + " but no mask updater was given");
                }
                if (mask == null) {
                    throw new IllegalArgumentException("a schedule with mask updates needs a start mask (dense to start)");
                }
                Weights gradient = null;
                if (updater.needsGradient()) {
                    RoundSum gradients = run.train(RoundInput.gradient(round.firstStep(), total, weights, mask));
                    gradient = gradients.weights().average();
                }
                Mask before = mask;
                mask = updater.update(round.firstStep(), round.pruneBefore().getAsDouble(), weights, before, gradient);
                // Connections the update makes active start from zero weight (pruned, they are zero already; the
                // workers apply the new mask on load) and from zero momentum.
                momentum = momentum == null ? null : mask.zeroActivated(before, momentum);
                progress.log(String.format("step %d/%d  mask updated: sparsity %.4f (target %.4f)", round.firstStep(), total,
                        mask.sparsity(), round.pruneBefore().getAsDouble()));
            }
            RoundSum sum = run.train(new RoundInput(round.firstStep(), total, weights, momentum, mask, plan.learningRates(round)));
            if (sum.weights().count() != workers) {
                throw new IllegalStateException("round " + round.index() + " averaged " + sum.weights().count() + " of " + workers
                        + " workers");
            }
            weights = sum.weights().average();
            momentum = sum.momentum().average();
            if (keepAtStep > 0 && after == keepAtStep) {
                kept = weights;
            }
            for (int step : snapshots.steps()) {
                if (step == after) {
                    snapshots.sink().accept(after, weights);
                }
            }
            // At the end too, unless the whole training is shorter than the interval (a kill loses less than one then).
            boolean end = after == total && total >= saving.everySteps();
            if (saving.enabled() && (after / saving.everySteps() > round.firstStep() / saving.everySteps() || end)) {
                saving.store().save(new TrainingState(saving.key(), after, total, weights, momentum, mask, kept,
                        earlierSeconds + (System.nanoTime() - begin) / 1e9));
                progress.log(String.format("saved the training state at step %d/%d", after, total));
            }
        }
        return new Result(weights, mask, kept, total, (long) total * workers * workerBatch,
                earlierSeconds + (System.nanoTime() - begin) / 1e9, workers);
    }
}
