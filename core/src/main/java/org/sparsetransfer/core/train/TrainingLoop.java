package org.sparsetransfer.core.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.tracker.Tracker;
import java.util.OptionalDouble;
import org.sparsetransfer.core.model.Network;
import org.sparsetransfer.core.model.TorchThreads;
import org.sparsetransfer.core.model.Weights;
import java.util.LinkedHashMap;
import java.util.Map;
import org.sparsetransfer.core.model.Tensor;
import org.sparsetransfer.core.prune.Mask;
import org.sparsetransfer.core.prune.MaskUpdater;

/**
 * The one training loop: SGD with momentum over shuffled mini-batches, driven by a
 * {@link TrainingSchedule}. Before a step the schedule names it lets a {@link MaskUpdater}
 * recompute the network's mask; after every optimizer step it re-applies the mask, so pruned
 * weights stay exactly zero. Callers hold {@link TorchThreads#exclusive} (one trainer per JVM).
 */
public final class TrainingLoop {
    private static final int LOG_LINES = 5;
    private final Settings settings;
    private final Progress progress;
    private final Objective objective;
    private final StepListener listener;

    /** Optimizer and batching hyperparameters, and how the run distills when it has a teacher. */
    public record Settings(int batchSize, float momentum, float weightDecay, long seed, Distillation distillation)
            implements java.io.Serializable {
        public Settings {
            if (batchSize <= 0) {
                throw new IllegalArgumentException("batch size must be positive, got " + batchSize);
            }
        }

        public Settings(int batchSize, float momentum, float weightDecay, long seed) {
            this(batchSize, momentum, weightDecay, seed, Distillation.NONE);
        }

        /** These settings, distilling as {@code how} says from a teacher the training is given. */
        public Settings distilling(Distillation how) {
            return new Settings(batchSize, momentum, weightDecay, seed, how);
        }

        /** These settings with another batch and seed (a data-parallel worker's). */
        public Settings forWorker(int workerBatch, long workerSeed) {
            return new Settings(workerBatch, momentum, weightDecay, workerSeed, distillation);
        }
    }

    /** Knowledge distillation's weight of the teacher's loss and its temperature (Hinton et al. 2015). */
    public record Distillation(float hardness, float temperature) implements java.io.Serializable {
        public static final Distillation NONE = new Distillation(0f, 2f);
    }

    /** What a run did. */
    public record Result(int steps, long examplesSeen, double wallSeconds, double finalLoss, double finalTrainAccuracy) {}

    /** Receives one line per epoch and per pruning step. */
    @FunctionalInterface
    public interface Progress {
        void log(String line);

        Progress SILENT = line -> {};
    }

    /** Called with 0 before the first step and after every step with the number of steps done. */
    @FunctionalInterface
    public interface StepListener {
        void afterSteps(int stepsDone, Network network);
    }

    public TrainingLoop(Settings settings, Progress progress) {
        this(settings, progress, Objective.crossEntropy(), (steps, network) -> {});
    }

    private TrainingLoop(Settings settings, Progress progress, Objective objective, StepListener listener) {
        this.settings = settings;
        this.progress = progress;
        this.objective = objective;
        this.listener = listener;
    }

    /** The same loop minimizing {@code newObjective} instead of cross-entropy. */
    public TrainingLoop withObjective(Objective newObjective) {
        return new TrainingLoop(settings, progress, newObjective, listener);
    }

    /** The same loop, calling {@code newListener} around steps (e.g. to keep rewind weights). */
    public TrainingLoop withStepListener(StepListener newListener) {
        return new TrainingLoop(settings, progress, objective, newListener);
    }

    /** One data-parallel round's outcome: the run, and the momentum buffers it ended with (by parameter name). */
    public record RoundResult(Result result, Weights momentum) {}

    /** A whole run in this network; an updater that needs gradients runs through {@link LocalSgd}, which computes them. */
    public Result run(Network network, TrainingData data, TrainingSchedule schedule, MaskUpdater updater) {
        if (updater != null && updater.needsGradient()) {
            throw new IllegalArgumentException(updater.describe() + " reads gradients; train it through LocalSgd");
        }
        return train(network, data, schedule, updater, 0, schedule.totalSteps(), null, false).result();
    }

    /**
     * The gradient of the loss at the network's weights on the batch its step {@code step} would
     * take (the order {@link #runRound} continues), for every trained parameter, pruned elements
     * included (the mask multiplies weights after steps, not inside the graph). Nothing is updated.
     */
    public Weights gradient(Network network, TrainingData data, int step) {
        int batch = Math.min(settings.batchSize(), data.size());
        BatchOrder order = new BatchOrder(data.size(), batch, settings.seed());
        order.skip(step);
        long[] indices = order.next();
        Map<String, Tensor> gradients = new LinkedHashMap<>();
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            NDArray[] xy = data.batch(indices, settings.seed(), order.pass());
            NDArray targets = objective.targets(xy[0]);
            try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                NDArray logits = network.forward(xy[0], true);
                collector.backward(objective.loss(logits, xy[1], targets));
            }
            network.parameters().forEach((name, p) -> {
                if (p.requiresGradient()) {
                    try (NDArray grad = p.getArray().getGradient()) {
                        gradients.put(name, new Tensor(grad.getShape().getShape(), grad.toFloatArray()));
                    }
                }
            });
        }
        return new Weights(gradients);
    }

    /**
     * Steps [firstStep, firstStep + round.totalSteps()) of a fixed-mask run of {@code runSteps}
     * steps (one round of {@link DataParallelPlan}): the batches continue the run's order where the
     * previous round stopped, the optimizer starts from the given momentum buffers (null: zero) and
     * returns the buffers it ends with, so rounds run one after another equal one uninterrupted run.
     * {@code round}'s step 0 is the run's step {@code firstStep}; epochs are logged as the run counts them.
     */
    public RoundResult runRound(Network network, TrainingData data, TrainingSchedule round, int firstStep, int runSteps,
            Weights momentum) {
        if (firstStep < 0 || firstStep + round.totalSteps() > runSteps) {
            throw new IllegalArgumentException("a round of steps [" + firstStep + ", " + (firstStep + round.totalSteps())
                    + ") of a run of " + runSteps + " steps");
        }
        return train(network, data, round, null, firstStep, runSteps, momentum, true);
    }

    private RoundResult train(Network network, TrainingData data, TrainingSchedule schedule, MaskUpdater updater,
            int firstStep, int runSteps, Weights startMomentum, boolean exportMomentum) {
        TorchThreads.disableGrad();
        int total = schedule.totalSteps();
        int batch = Math.min(settings.batchSize(), data.size());
        int stepsPerEpoch = TrainingSchedule.stepsPerEpoch(data.size(), batch);
        int epochs = (runSteps + stepsPerEpoch - 1) / stepsPerEpoch;
        // At most about LOG_LINES progress lines per run, however many epochs it has.
        int logEveryEpochs = Math.max(1, (epochs + LOG_LINES - 1) / LOG_LINES);
        StepTracker lr = new StepTracker(schedule);
        MomentumSgd sgd = new MomentumSgd(lr, settings.momentum(), settings.weightDecay());
        if (startMomentum != null) {
            sgd.seed(network, startMomentum);
        }
        BatchOrder order = new BatchOrder(data.size(), batch, settings.seed());
        order.skip(firstStep);
        long start = System.nanoTime();
        double epochLoss = 0;
        long epochCorrect = 0;
        long epochSeen = 0;
        double lastLoss = Double.NaN;
        double lastAccuracy = Double.NaN;

        listener.afterSteps(0, network);
        long[] indices = total > 0 ? order.next() : null;
        int pass = order.pass();
        for (int step = 0; step < total; step++) {
            OptionalDouble pruneTo = schedule.pruneBefore(step);
            if (pruneTo.isPresent()) {
                updateMask(network, updater, pruneTo.getAsDouble(), step, total);
            }
            lr.step = step;
            try (NDScope scope = new NDScope()) {
                scope.suppressNotUsedWarning();
                NDArray[] xy = data.batch(indices, settings.seed(), pass);
                // The next batch is known: its inputs are prepared (decoded, augmented) while this step computes.
                if (step + 1 < total) {
                    indices = order.next();
                    pass = order.pass();
                    data.prefetch(indices, settings.seed(), pass);
                }
                float stepLoss;
                long correct;
                NDArray targets = objective.targets(xy[0]);
                try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                    NDArray logits = network.forward(xy[0], true);
                    NDArray value = objective.loss(logits, xy[1], targets);
                    collector.backward(value);
                    stepLoss = value.getFloat();
                    correct = logits.argMax(1).eq(xy[1]).countNonzero().getLong();
                }
                if (!Float.isFinite(stepLoss)) {
                    throw new TrainingDivergedException(firstStep + step, stepLoss);
                }
                epochLoss += stepLoss * batch;
                epochCorrect += correct;
                epochSeen += batch;
            }
            // Outside the step's scope: the optimizer creates its momentum buffers on first use.
            for (Parameter p : network.parameters().values()) {
                if (p.requiresGradient()) {
                    NDArray w = p.getArray();
                    try (NDArray grad = w.getGradient()) {
                        sgd.update(p.getId(), w, grad);
                    }
                }
            }
            network.applyMask();
            listener.afterSteps(step + 1, network);
            int runStep = firstStep + step;
            boolean runEnd = runStep + 1 == runSteps;
            // A round that ends mid-epoch drops its part of the epoch's tally: the epoch's line covers the steps of its last round.
            boolean epochEnd = (runStep + 1) % stepsPerEpoch == 0 || runEnd;
            int epochNumber = (runStep + stepsPerEpoch) / stepsPerEpoch;
            if (epochEnd && (epochNumber % logEveryEpochs == 0 || runEnd)) {
                lastLoss = epochLoss / epochSeen;
                lastAccuracy = (double) epochCorrect / epochSeen;
                progress.log(String.format("epoch %d/%d  step %d/%d  loss %.4f  train acc %.2f%%  lr %.5f%s  %.1fs",
                        epochNumber, epochs, runStep + 1, runSteps, lastLoss, 100 * lastAccuracy, schedule.learningRate(step),
                        network.mask() == null ? "" : String.format("  sparsity %.4f", network.mask().sparsity()),
                        seconds(start)));
                epochLoss = 0;
                epochCorrect = 0;
                epochSeen = 0;
            }
        }
        return new RoundResult(new Result(total, (long) total * batch, seconds(start), lastLoss, lastAccuracy),
                exportMomentum ? sgd.buffers(network) : null);
    }

    private void updateMask(Network network, MaskUpdater updater, double sparsity, int step, int total) {
        Mask current = network.mask();
        if (current == null) {
            throw new IllegalStateException("a pruning schedule needs the network's mask set (dense to start)");
        }
        Mask next = updater.update(step, sparsity, network.weights(), current, null);
        network.setMask(next);
        progress.log(String.format("step %d/%d  pruned to sparsity %.4f (target %.4f)", step, total, next.sparsity(), sparsity));
    }

    private static double seconds(long startNanos) {
        return (System.nanoTime() - startNanos) / 1e9;
    }

    /** Feeds the schedule's learning rate for the current step to DJL's optimizer. */
    private static final class StepTracker implements Tracker {
        private final TrainingSchedule schedule;
        private int step;

        StepTracker(TrainingSchedule schedule) {
            this.schedule = schedule;
        }

        @Override
        public float getNewValue(int numUpdate) {
            return schedule.learningRate(step);
        }
    }
}
