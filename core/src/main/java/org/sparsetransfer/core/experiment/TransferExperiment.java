package org.sparsetransfer.core.experiment;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import java.io.Serializable;
import java.util.LinkedHashSet;
import java.util.Set;
import org.sparsetransfer.core.config.ExperimentConfig;
import org.sparsetransfer.core.data.ImageSet;
import org.sparsetransfer.core.model.Architecture;
import org.sparsetransfer.core.model.Network;
import org.sparsetransfer.core.model.TorchThreads;
import org.sparsetransfer.core.model.Weights;
import org.sparsetransfer.core.prune.Mask;
import org.sparsetransfer.core.task.TaskRegistry;
import org.sparsetransfer.core.train.Evaluator;
import org.sparsetransfer.core.train.Scores;
import org.sparsetransfer.core.train.TensorData;
import org.sparsetransfer.core.train.TrainingData;
import org.sparsetransfer.core.train.TrainingDivergedException;
import org.sparsetransfer.core.train.TrainingLoop;
import org.sparsetransfer.core.train.TrainingSchedule;
import org.sparsetransfer.core.transfer.Regime;

/**
 * Transfer of one upstream checkpoint to one downstream task in one regime with one seed.
 * Linear transfer extracts the frozen backbone's features and trains a new linear head on
 * them; full transfer trains every layer with a new head, with the upstream mask re-applied
 * after every step so the sparsity stays exact.
 */
public final class TransferExperiment {
    /** Where the learning rate drops when a recipe names no milestones: once, at this fraction of the run. */
    private static final double DECAY_AT = 2.0 / 3.0;

    private final ExperimentConfig config;
    private final Architecture architecture;
    private final InputPipeline inputs;
    private final Device device;

    /** One run's result; {@code error} is non-null when it failed (then scores are null). */
    public record Outcome(Regime regime, long seed, Scores scores, int steps, double wallSeconds, String error)
            implements Serializable {}

    public TransferExperiment(ExperimentConfig config, Device device) {
        this.config = config;
        this.architecture = Architecture.byName(config.model, config.data.images.imageSize);
        this.inputs = InputPipeline.of(config);
        this.device = device;
    }

    /**
     * One transfer run; a run whose loss diverges comes back as an {@code Outcome} with its
     * error, so a grid of runs goes on. Holds the JVM's training lock while it trains. Linear
     * runs take the frozen backbone's features from {@code features}, scoped by the caller to
     * this checkpoint and task, so the seeds of one pair extract them once. The recipe is the
     * config's for {@code taskName} in {@code regime} (with its per-task settings).
     */
    public Outcome run(Weights upstream, Mask mask, String taskName, TaskRegistry.Splits task, Regime regime, long seed,
            FeatureCache features, TrainingLoop.Progress progress) throws Exception {
        ExperimentConfig.Regime recipe = config.transfer.recipe(taskName, regime);
        return TorchThreads.exclusive(() -> regime == Regime.LINEAR
                ? linear(upstream, mask, task, recipe, seed, features, progress)
                : full(upstream, mask, task, recipe, seed, progress));
    }

    /** As {@link #run(Weights, Mask, String, TaskRegistry.Splits, Regime, long, FeatureCache, TrainingLoop.Progress)}, extracting features every time. */
    public Outcome run(Weights upstream, Mask mask, String taskName, TaskRegistry.Splits task, Regime regime, long seed,
            TrainingLoop.Progress progress) throws Exception {
        return run(upstream, mask, taskName, task, regime, seed, FeatureCache.NONE, progress);
    }

    private Outcome linear(Weights upstream, Mask mask, TaskRegistry.Splits task, ExperimentConfig.Regime recipe, long seed,
            FeatureCache cache, TrainingLoop.Progress progress) throws Exception {
        long start = System.nanoTime();
        FeatureCache.Extracted features = cache.get(() -> extract(upstream, mask, task));
        try (NDManager manager = NDManager.newBaseManager(device);
                TensorData train = features.train().upload(manager);
                TensorData test = features.test().upload(manager);
                Network head = Network.create(Linear.builder().setUnits(task.train().numClasses()).build(), null,
                        new Shape(1, features.train().dimension()), seed, device)) {
            return train(head, train, test, recipe, seed, Regime.LINEAR, progress, start);
        }
    }

    /** The frozen backbone's features of the evaluation transform (centre crops for image datasets). */
    private FeatureCache.Extracted extract(Weights upstream, Mask mask, TaskRegistry.Splits task) {
        // Only the backbone is loaded and used; the head this builds is never trained.
        try (Network backbone = Network.classifier(architecture, task.train().numClasses(), 0, device)) {
            backbone.load(upstream, backbone::isFeatureParameter);
            if (mask != null) {
                backbone.setMask(mask.restrictTo(featureTensors(backbone, mask)));
            }
            return new FeatureCache.Extracted(features(backbone, task.train()), features(backbone, task.test()));
        }
    }

    private Outcome full(Weights upstream, Mask mask, TaskRegistry.Splits task, ExperimentConfig.Regime recipe, long seed,
            TrainingLoop.Progress progress) {
        long start = System.nanoTime();
        try (Network net = Network.classifier(architecture, task.train().numClasses(), seed, device)) {
            net.load(upstream, net::isFeatureParameter);
            if (mask != null) {
                net.setMask(mask.restrictTo(featureTensors(net, mask)));
            }
            try (TrainingData train = inputs.open(net.manager(), task.train());
                    TrainingData test = inputs.open(net.manager(), task.test())) {
                return train(net, train, test, recipe, seed, Regime.FULL, progress, start);
            }
        }
    }

    private Outcome train(Network net, TrainingData train, TrainingData test, ExperimentConfig.Regime recipe, long seed,
            Regime regime, TrainingLoop.Progress progress, long startNanos) {
        TrainingSchedule schedule = schedule(recipe, train.size(), config.transfer.batchSize);
        TrainingLoop.Progress tagged = line -> progress.log(regime.key() + " seed " + seed + ": " + line);
        TrainingLoop loop = new TrainingLoop(settings(config, recipe, seed), tagged);
        try {
            TrainingLoop.Result result = loop.run(net, train, schedule, null);
            Scores scores = Evaluator.evaluate(net, test);
            tagged.log(String.format("test top-1 %.2f%%  mean per class %.2f%%", 100 * scores.top1(), 100 * scores.meanPerClass()));
            return new Outcome(regime, seed, scores, result.steps(), (System.nanoTime() - startNanos) / 1e9, null);
        } catch (TrainingDivergedException e) {
            tagged.log("FAILED: " + e.getMessage());
            return new Outcome(regime, seed, null, 0, (System.nanoTime() - startNanos) / 1e9, e.getMessage());
        }
    }

    /**
     * A recipe's schedule on a task of {@code trainSize} training examples at batch {@code batch}:
     * its steps (or epochs of {@link TrainingSchedule#stepsPerEpoch} steps), the learning rate
     * multiplied by lr_gamma at each milestone (in the recipe's unit), or once at 2/3 of the run
     * when it names none.
     */
    public static TrainingSchedule schedule(ExperimentConfig.Regime recipe, long trainSize, int batch) {
        int steps = steps(recipe, trainSize, batch);
        if (recipe.lrMilestones == null) {
            return TrainingSchedule.fixedMask(steps, TrainingSchedule.LearningRate.stepDecay(recipe.lr, recipe.lrGamma, DECAY_AT));
        }
        int unit = recipe.epochs != null ? TrainingSchedule.stepsPerEpoch(trainSize, batch) : 1;
        int[] at = recipe.lrMilestones.stream().mapToInt(m -> Math.multiplyExact(m, unit)).toArray();
        return TrainingSchedule.fixedMask(steps, TrainingSchedule.LearningRate.multiStep(recipe.lr, recipe.lrGamma, at));
    }

    /** A recipe's optimizer steps on a task of {@code trainSize} training examples at batch {@code batch}. */
    public static int steps(ExperimentConfig.Regime recipe, long trainSize, int batch) {
        return recipe.length().steps(trainSize, batch);
    }

    /** A transfer run's optimizer settings: the run's seed orders its batches (and initializes its new head). */
    public static TrainingLoop.Settings settings(ExperimentConfig config, ExperimentConfig.Regime recipe, long seed) {
        return new TrainingLoop.Settings(config.transfer.batchSize, config.transfer.momentum, recipe.weightDecay, seed);
    }

    private static Set<String> featureTensors(Network net, Mask mask) {
        Set<String> names = new LinkedHashSet<>();
        for (String name : mask.tensorNames()) {
            if (net.isFeatureParameter(name)) {
                names.add(name);
            }
        }
        return names;
    }

    private FeatureCache.Split features(Network backbone, ImageSet split) {
        try (TrainingData images = inputs.open(backbone.manager(), split);
                NDArray features = Evaluator.mapInputs(images, backbone::features)) {
            return FeatureCache.Split.of(features, images.labelValues(), images.numClasses());
        }
    }
}
