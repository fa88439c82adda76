package org.sparsetransfer.core.experiment;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import java.io.IOException;
import java.io.Serializable;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.Set;
import org.sparsetransfer.core.config.ExperimentConfig;
import org.sparsetransfer.core.data.ImageSource;
import org.sparsetransfer.core.data.SpillDirectory;
import org.sparsetransfer.core.model.Architecture;
import org.sparsetransfer.core.model.Network;
import org.sparsetransfer.core.model.TorchThreads;
import org.sparsetransfer.core.model.Weights;
import org.sparsetransfer.core.prune.Mask;
import org.sparsetransfer.core.task.TaskRegistry;
import org.sparsetransfer.core.train.Evaluator;
import org.sparsetransfer.core.train.LocalSgd;
import org.sparsetransfer.core.train.Scores;
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
     * config's for {@code taskName} in {@code regime} (with its per-task settings). The run's
     * training saves and resumes its states as {@code states} says (one worker of
     * {@link LocalSgd}, as every training).
     */
    public Outcome run(Weights upstream, Mask mask, String taskName, TaskRegistry.Splits task, Regime regime, long seed,
            FeatureCache features, LocalSgd.StatePolicy states, TrainingLoop.Progress progress) throws Exception {
        ExperimentConfig.Regime recipe = config.transfer.recipe(taskName, regime);
        return TorchThreads.exclusive(() -> switch (regime) {
            case LINEAR -> linear(upstream, mask, task, recipe, seed, features, states, progress);
            case FULL -> full(upstream, mask, task, recipe, seed, states, progress);
        });
    }

    /** One transfer run that saves no states, extracting its own features. */
    public Outcome run(Weights upstream, Mask mask, String taskName, TaskRegistry.Splits task, Regime regime, long seed,
            TrainingLoop.Progress progress) throws Exception {
        try (FeatureCache once = FeatureCache.none()) {
            return run(upstream, mask, taskName, task, regime, seed, once, LocalSgd.StatePolicy.NONE, progress);
        }
    }

    private Outcome linear(Weights upstream, Mask mask, TaskRegistry.Splits task, ExperimentConfig.Regime recipe, long seed,
            FeatureCache cache, LocalSgd.StatePolicy states, TrainingLoop.Progress progress) throws Exception {
        long start = System.nanoTime();
        FeatureCache.Extracted features = cache.get(() -> extract(upstream, mask, task));
        try (NDManager manager = NDManager.newBaseManager(device);
                TrainingData train = features.train().open(manager);
                TrainingData test = features.test().open(manager);
                Network head = Network.create(Linear.builder().setUnits(task.train().numClasses()).build(), null,
                        new Shape(1, features.train().dimension()), seed, device)) {
            return train(head, train, test, recipe, seed, Regime.LINEAR, states, progress, start);
        }
    }

    /** The frozen backbone's features of the evaluation transform (centre crops for image datasets). */
    private FeatureCache.Extracted extract(Weights upstream, Mask mask, TaskRegistry.Splits task) throws IOException {
        // Only the backbone is loaded and used; the head this builds is never trained.
        try (Network backbone = Network.classifier(architecture, task.train().numClasses(), 0, device)) {
            backbone.load(upstream, backbone::isFeatureParameter);
            if (mask != null) {
                backbone.setMask(mask.restrictTo(featureTensors(backbone, mask)));
            }
            FeatureCache.Split train = features(backbone, task.train());
            try {
                return new FeatureCache.Extracted(train, features(backbone, task.test()));
            } catch (IOException | RuntimeException e) {
                train.close(); // no spilled file outlives a failed extraction
                throw e;
            }
        }
    }

    private Outcome full(Weights upstream, Mask mask, TaskRegistry.Splits task, ExperimentConfig.Regime recipe, long seed,
            LocalSgd.StatePolicy states, TrainingLoop.Progress progress) throws Exception {
        long start = System.nanoTime();
        try (Network net = Network.classifier(architecture, task.train().numClasses(), seed, device)) {
            net.load(upstream, net::isFeatureParameter);
            if (mask != null) {
                net.setMask(mask.restrictTo(featureTensors(net, mask)));
            }
            try (TrainingData train = inputs.open(net.manager(), task.train());
                    TrainingData test = inputs.open(net.manager(), task.test())) {
                return train(net, train, test, recipe, seed, Regime.FULL, states, progress, start);
            }
        }
    }

    /**
     * Trains {@code net} (its mask fixed) on {@code train} as {@link LocalSgd} with one worker, the
     * network kept between rounds (rounds end only where states are saved), and scores it.
     */
    private Outcome train(Network net, TrainingData train, TrainingData test, ExperimentConfig.Regime recipe, long seed,
            Regime regime, LocalSgd.StatePolicy states, TrainingLoop.Progress progress, long startNanos) throws Exception {
        TrainingSchedule schedule = schedule(recipe, train.size(), config.transfer.batchSize);
        TrainingLoop.Progress tagged = line -> progress.log(regime.key() + " seed " + seed + ": " + line);
        TrainingLoop.Settings settings = settings(config, recipe, seed);
        TrainingLoop loop = new TrainingLoop(settings, tagged);
        try {
            Weights start = net.weights();
            Mask mask = net.mask();
            long trainingStart = System.nanoTime();
            LocalSgd.Result result = LocalSgd.train(schedule, 1, 1, settings.batchSize(), null, start, mask, -1,
                    states.saving(schedule, 1, 1, settings, null, start, mask, null, -1), input -> {
                        net.load(input.weights(), name -> true);
                        TrainingLoop.RoundResult round = loop.runRound(net, train, input.schedule(), input.firstStep(),
                                input.runSteps(), input.momentum());
                        return new LocalSgd.RoundSum().add(new LocalSgd.RoundState(net.weights(), round.momentum()));
                    }, tagged);
            net.load(result.weights(), name -> true); // a run resumed at its end trained nothing here
            // The training's time in earlier, killed attempts counts too.
            double earlierSeconds = Math.max(0, result.wallSeconds() - (System.nanoTime() - trainingStart) / 1e9);
            Scores scores = Evaluator.evaluate(net, test);
            tagged.log(String.format("test top-1 %.2f%%  mean per class %.2f%%", 100 * scores.top1(), 100 * scores.meanPerClass()));
            return new Outcome(regime, seed, scores, result.steps(), earlierSeconds + (System.nanoTime() - startNanos) / 1e9, null);
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

    /**
     * A split's features, batch by batch: on the heap if the split's fit data.buffer_mb, else
     * spilled to a file in the JVM's temporary directory (an executor's local disk).
     */
    private FeatureCache.Split features(Network backbone, ImageSource split) throws IOException {
        try (TrainingData images = inputs.open(backbone.manager(), split)) {
            FeatureCache.Split.Writer writer = FeatureCache.Split.writer(images.size(), images.labelValues(), images.numClasses(),
                    config.data.bufferBytes(), SpillDirectory.of("features"));
            int batch = images.evaluationBatch();
            try {
                for (int from = 0; from < images.size(); from += batch) {
                    try (NDScope scope = new NDScope()) {
                        scope.suppressNotUsedWarning();
                        NDArray features = backbone.features(images.range(from, Math.min(from + batch, images.size()))[0]);
                        writer.append(features.toFloatArray(), Math.toIntExact(features.getShape().get(1)));
                    }
                }
                return writer.finish();
            } catch (IOException | RuntimeException e) {
                writer.abort();
                throw e;
            }
        }
    }
}
