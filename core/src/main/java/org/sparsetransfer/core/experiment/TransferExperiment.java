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
import org.sparsetransfer.core.task.Metric;
import org.sparsetransfer.core.transfer.LinearProbe;
import org.sparsetransfer.core.transfer.LinearSolver;
import org.sparsetransfer.core.transfer.Lbfgs;
import org.sparsetransfer.core.transfer.Regime;
import org.sparsetransfer.core.transfer.Validation;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

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
    public record Outcome(Regime regime, long seed, Scores scores, int steps, double wallSeconds, String error, Details details)
            implements Serializable {
        Outcome(Regime regime, long seed, Scores scores, int steps, double wallSeconds, String error) {
            this(regime, seed, scores, steps, wallSeconds, error, Details.NONE);
        }
    }

    /**
     * What a run chose and how far it converged: its final training loss (the mean cross-entropy
     * on its training examples; a linear head's exactly, a full run's over its last epoch), the
     * probe's penalty, the learning rate chosen from {@code lr_grid}, whether a linear head
     * converged, the chosen setting's validation score (percent), and which test examples it
     * classified correctly (a bit per example, in test order; for the report's paired tests).
     * Null where a run has none.
     */
    public record Details(Double finalLoss, Double penalty, Double learningRate, Boolean converged, Double validationScore,
            byte[] testCorrect) implements Serializable {
        static final Details NONE = new Details(null, null, null, null, null, null);
    }

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
        // Read only where something is chosen on validation (a run of a task no config names chooses nothing).
        java.util.function.Supplier<Metric> metric = () -> TaskRegistry.metric(config, taskName, "transfer.tasks");
        Validation validation = Validation.of(task.train().labels(), task.train().numClasses(), validationSettings(config),
                validationSeed(config, taskName, seed));
        TrainingLoop.Progress tagged = line -> progress.log(regime.key() + " seed " + seed + ": " + line);
        return TorchThreads.exclusive(() -> switch (regime) {
            case LINEAR -> switch (LinearSolver.of(recipe.solver, "transfer.linear.solver")) {
                case SGD -> linear(upstream, mask, task, recipe, seed, features, states, validation, metric, tagged);
                case LBFGS -> probe(upstream, mask, task, seed, features, validation, metric.get(), tagged);
            };
            case FULL -> full(upstream, mask, task, recipe, seed, states, validation, metric, tagged);
        });
    }

    /** The validation settings of a config. */
    static Validation.Settings validationSettings(ExperimentConfig config) {
        ExperimentConfig.ValidationSplit v = config.transfer.validation;
        return new Validation.Settings(v.fraction, v.minPerClass, v.folds);
    }

    /** The seed of a run's validation split: the data's split seed, the task and the run's seed (documented in usage.md). */
    static long validationSeed(ExperimentConfig config, String task, long seed) {
        return config.data.splitSeed * 1_000_003L + ("validation:" + task).hashCode() * 31L + seed;
    }

    /** One transfer run that saves no states, extracting its own features. */
    public Outcome run(Weights upstream, Mask mask, String taskName, TaskRegistry.Splits task, Regime regime, long seed,
            TrainingLoop.Progress progress) throws Exception {
        try (FeatureCache once = FeatureCache.none()) {
            return run(upstream, mask, taskName, task, regime, seed, once, LocalSgd.StatePolicy.NONE, progress);
        }
    }

    /**
     * The linear regime with SGD (the study's protocol): a new head trained on the features for the
     * recipe's length, its learning rate chosen on validation when the recipe has an lr_grid; then
     * the probe's objective (penalty = the recipe's weight decay) at the head says whether it converged.
     */
    private Outcome linear(Weights upstream, Mask mask, TaskRegistry.Splits task, ExperimentConfig.Regime recipe, long seed,
            FeatureCache cache, LocalSgd.StatePolicy states, Validation validation, java.util.function.Supplier<Metric> metric,
            TrainingLoop.Progress progress) throws Exception {
        long start = System.nanoTime();
        FeatureCache.Extracted features = cache.get(() -> extract(upstream, mask, task));
        try (NDManager manager = NDManager.newBaseManager(device);
                TrainingData train = features.train().open(manager);
                TrainingData test = features.test().open(manager)) {
            int dimension = features.train().dimension();
            Chosen chosen = chooseLearningRate(recipe, validation, metric, progress, (lr, trainPart, scored) -> {
                try (Network head = head(task, dimension, seed)) {
                    train(head, TrainingData.subset(train, trainPart), recipe.withLr(lr), seed, LocalSgd.StatePolicy.NONE, TrainingLoop.Progress.SILENT);
                    return score(head, TrainingData.subset(train, scored), metric.get());
                }
            });
            try (Network head = head(task, dimension, seed)) {
                Trained trained = train(head, train, recipe.withLr(chosen.lr()), seed, states, progress);
                int[] predicted = Evaluator.predict(head, test);
                Scores scores = Scores.of(predicted, test.labelValues(), test.numClasses());
                double[] objective = LinearProbe.objectiveAt(train, dimension, recipe.weightDecay, probeParameters(head, dimension));
                boolean converged = objective[1] <= config.transfer.probe.sgdTolerance;
                progress.log(String.format(Locale.ROOT, "the head's objective %.6f, largest gradient component %.2e: %s", objective[0],
                        objective[1], converged ? "converged" : "NOT converged (above transfer.probe.sgd_tolerance "
                                + config.transfer.probe.sgdTolerance + ")"));
                progress.log(String.format(Locale.ROOT, "test top-1 %.2f%%  mean per class %.2f%%", 100 * scores.top1(),
                        100 * scores.meanPerClass()));
                return new Outcome(Regime.LINEAR, seed, scores, trained.steps(), trained.earlierSeconds() + seconds(start), null,
                        new Details(objective[2], null, chosen.selected() ? (double) chosen.lr() : null, converged, chosen.score(),
                                correct(predicted, test.labelValues())));
            }
        } catch (TrainingDivergedException e) {
            progress.log("FAILED: " + e.getMessage());
            return new Outcome(Regime.LINEAR, seed, null, 0, seconds(start), e.getMessage());
        }
    }

    /**
     * The linear regime with L-BFGS (Kornblith et al. 2019): multinomial logistic regression on the
     * features, its penalty chosen on validation from transfer.probe.l2_grid, refitted on the whole
     * training split to convergence.
     */
    private Outcome probe(Weights upstream, Mask mask, TaskRegistry.Splits task, long seed, FeatureCache cache, Validation validation,
            Metric metric, TrainingLoop.Progress progress) throws Exception {
        long start = System.nanoTime();
        FeatureCache.Extracted features = cache.get(() -> extract(upstream, mask, task));
        ExperimentConfig.Probe settings = config.transfer.probe;
        Lbfgs.Settings lbfgs = new Lbfgs.Settings(10, settings.maxIterations, settings.tolerance, 1e-12);
        try (NDManager manager = NDManager.newBaseManager(device);
                TrainingData train = features.train().open(manager);
                TrainingData test = features.test().open(manager)) {
            int dimension = features.train().dimension();
            LinearProbe.Selection selection = LinearProbe.choosePenalty(train, dimension, validation, settings.l2Grid, metric, lbfgs);
            progress.log(String.format(Locale.ROOT, "penalty %.0e chosen on %s (%s %.2f%%; every penalty: %s)", selection.lambda(),
                    validation.describe(), metric.key(), selection.score(), describe(selection.scores())));
            boolean shared = features.probeFits().containsKey(selection.lambda());
            LinearProbe.Fit fit = features.probeFits().computeIfAbsent(selection.lambda(),
                    lambda -> LinearProbe.fit(train, null, dimension, lambda, null, lbfgs));
            Lbfgs.Result r = fit.result();
            progress.log(String.format(Locale.ROOT, "fitted on all %d training examples%s: loss %.6f (objective %.6f), largest gradient "
                    + "component %.2e after %d iterations: %s", train.size(), shared ? " (an earlier seed's fit at this penalty)" : "",
                    fit.dataLoss(), r.value(), r.gradientMax(), r.iterations(),
                    r.converged() ? "converged" : "NOT converged (" + r.stop().name().toLowerCase(Locale.ROOT) + ")"));
            int[] predicted = LinearProbe.predict(test, null, fit);
            Scores scores = Scores.of(predicted, test.labelValues(), test.numClasses());
            progress.log(String.format(Locale.ROOT, "test top-1 %.2f%%  mean per class %.2f%%", 100 * scores.top1(), 100 * scores.meanPerClass()));
            return new Outcome(Regime.LINEAR, seed, scores, r.iterations(), seconds(start), null, new Details(fit.dataLoss(),
                    selection.lambda(), null, r.converged(), selection.score(), correct(predicted, test.labelValues())));
        } catch (ArithmeticException e) {
            progress.log("FAILED: " + e.getMessage());
            return new Outcome(Regime.LINEAR, seed, null, 0, seconds(start), "the probe's objective diverged: " + e.getMessage());
        }
    }

    private static String describe(java.util.Map<Double, Double> scores) {
        StringBuilder out = new StringBuilder();
        scores.forEach((lambda, score) -> out.append(out.length() == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%.0e %.2f", lambda, score)));
        return out.toString();
    }

    /** A new linear head for the task's classes on {@code dimension} features, initialized from the run's seed. */
    private Network head(TaskRegistry.Splits task, int dimension, long seed) {
        return Network.create(Linear.builder().setUnits(task.train().numClasses()).build(), null, new Shape(1, dimension), seed, device);
    }

    /** A head's weight [classes, features] and bias as the probe's parameters (W features x classes, then b). */
    private static double[] probeParameters(Network head, int dimension) {
        float[] weight = null;
        float[] bias = null;
        for (var p : head.parameters().values()) {
            if (p.getArray().getShape().dimension() == 2) {
                weight = p.getArray().toFloatArray();
            } else {
                bias = p.getArray().toFloatArray();
            }
        }
        int classes = bias.length;
        double[] parameters = new double[(dimension + 1) * classes];
        for (int c = 0; c < classes; c++) {
            for (int j = 0; j < dimension; j++) {
                parameters[j * classes + c] = weight[c * dimension + j];
            }
            parameters[dimension * classes + c] = bias[c];
        }
        return parameters;
    }

    /** The task's metric of {@code net} on {@code data}, in percent. */
    private static double score(Network net, TrainingData data, Metric metric) {
        return metric.percent(Evaluator.evaluate(net, data));
    }

    /** A bit per test example, set where the prediction is right (for the report's paired tests). */
    static byte[] correct(int[] predicted, int[] truth) {
        java.util.BitSet bits = new java.util.BitSet(truth.length);
        for (int i = 0; i < truth.length; i++) {
            bits.set(i, predicted[i] == truth[i]);
        }
        byte[] packed = java.util.Arrays.copyOf(bits.toByteArray(), (truth.length + 7) / 8);
        return packed;
    }

    private static double seconds(long startNanos) {
        return (System.nanoTime() - startNanos) / 1e9;
    }

    /** A learning rate chosen on validation (or the recipe's own, nothing chosen) and its validation score. */
    private record Chosen(float lr, Double score, boolean selected) {}

    /** One candidate's validation score: trained on the fold's {@code train} examples, scored on its {@code scored} ones. */
    @FunctionalInterface
    private interface Candidate {
        double score(float lr, long[] train, long[] scored) throws Exception;
    }

    /**
     * The recipe's learning rate, or with an lr_grid the one whose runs score best on the
     * validation folds (the larger on a tie); a candidate that diverges scores nothing.
     */
    private static Chosen chooseLearningRate(ExperimentConfig.Regime recipe, Validation validation,
            java.util.function.Supplier<Metric> metric, TrainingLoop.Progress progress, Candidate candidate) throws Exception {
        if (recipe.lrGrid == null) {
            return new Chosen(recipe.lr, null, false);
        }
        List<Float> grid = recipe.lrGrid.stream().sorted(Comparator.reverseOrder()).toList();
        float best = grid.get(0);
        double bestScore = Double.NEGATIVE_INFINITY;
        StringBuilder scores = new StringBuilder();
        for (float lr : grid) {
            double total = 0;
            for (Validation.Fold fold : validation.folds()) {
                try {
                    total += candidate.score(lr, fold.train(), fold.validation()) / validation.folds().size();
                } catch (TrainingDivergedException e) {
                    total = Double.NEGATIVE_INFINITY;
                    break;
                }
            }
            scores.append(scores.length() == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%s %.2f", lr, total));
            if (total > bestScore) {
                bestScore = total;
                best = lr;
            }
        }
        progress.log(String.format(Locale.ROOT, "learning rate %s chosen on %s (%s: %s)", best, validation.describe(), metric.get().key(),
                scores));
        return new Chosen(best, Double.isFinite(bestScore) ? bestScore : null, true);
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

    /**
     * The full regime: every layer trained with a new head, the upstream mask re-applied after
     * every step, its learning rate chosen on validation when the recipe has an lr_grid.
     */
    private Outcome full(Weights upstream, Mask mask, TaskRegistry.Splits task, ExperimentConfig.Regime recipe, long seed,
            LocalSgd.StatePolicy states, Validation validation, java.util.function.Supplier<Metric> metric, TrainingLoop.Progress progress)
            throws Exception {
        long start = System.nanoTime();
        try {
            Chosen chosen = chooseLearningRate(recipe, validation, metric, progress, (lr, trainPart, scored) -> {
                try (Network net = fullNetwork(upstream, mask, task, seed);
                        TrainingData train = inputs.open(net.manager(), task.train().subset(task.train().name(), ints(trainPart)));
                        TrainingData held = inputs.open(net.manager(), task.train().subset(task.train().name(), ints(scored)))) {
                    train(net, train, recipe.withLr(lr), seed, LocalSgd.StatePolicy.NONE, TrainingLoop.Progress.SILENT);
                    return score(net, held, metric.get());
                }
            });
            try (Network net = fullNetwork(upstream, mask, task, seed);
                    TrainingData train = inputs.open(net.manager(), task.train());
                    TrainingData test = inputs.open(net.manager(), task.test())) {
                Trained trained = train(net, train, recipe.withLr(chosen.lr()), seed, states, progress);
                int[] predicted = Evaluator.predict(net, test);
                Scores scores = Scores.of(predicted, test.labelValues(), test.numClasses());
                progress.log(String.format(Locale.ROOT, "test top-1 %.2f%%  mean per class %.2f%%", 100 * scores.top1(),
                        100 * scores.meanPerClass()));
                return new Outcome(Regime.FULL, seed, scores, trained.steps(), trained.earlierSeconds() + seconds(start), null,
                        new Details(trained.finalLoss(), null, chosen.selected() ? (double) chosen.lr() : null, null, chosen.score(),
                                correct(predicted, test.labelValues())));
            }
        } catch (TrainingDivergedException e) {
            progress.log("FAILED: " + e.getMessage());
            return new Outcome(Regime.FULL, seed, null, 0, seconds(start), e.getMessage());
        }
    }

    /** The upstream backbone under its mask, with a new head for the task's classes. */
    private Network fullNetwork(Weights upstream, Mask mask, TaskRegistry.Splits task, long seed) {
        Network net = Network.classifier(architecture, task.train().numClasses(), seed, device);
        net.load(upstream, net::isFeatureParameter);
        if (mask != null) {
            net.setMask(mask.restrictTo(featureTensors(net, mask)));
        }
        return net;
    }

    private static int[] ints(long[] indices) {
        int[] out = new int[indices.length];
        for (int i = 0; i < indices.length; i++) {
            out[i] = Math.toIntExact(indices[i]);
        }
        return out;
    }

    /** A training's steps, its time in earlier (killed) attempts, and its last epoch's mean training loss. */
    private record Trained(int steps, double earlierSeconds, Double finalLoss) {}

    /**
     * Trains {@code net} (its mask fixed) on {@code train} as {@link LocalSgd} with one worker, the
     * network kept between rounds (rounds end only where states are saved).
     */
    private Trained train(Network net, TrainingData train, ExperimentConfig.Regime recipe, long seed, LocalSgd.StatePolicy states,
            TrainingLoop.Progress progress) throws Exception {
        TrainingSchedule schedule = schedule(recipe, train.size(), config.transfer.batchSize);
        TrainingLoop.Settings settings = settings(config, recipe, seed);
        TrainingLoop loop = new TrainingLoop(settings, progress);
        Weights start = net.weights();
        Mask mask = net.mask();
        long trainingStart = System.nanoTime();
        double[] lastLoss = {Double.NaN};
        LocalSgd.Result result = LocalSgd.train(schedule, 1, 1, settings.batchSize(), null, start, mask, -1,
                states.saving(schedule, 1, 1, settings, null, start, mask, null, -1), input -> {
                    net.load(input.weights(), name -> true);
                    TrainingLoop.RoundResult round = loop.runRound(net, train, input.schedule(), input.firstStep(),
                            input.runSteps(), input.momentum());
                    lastLoss[0] = round.result().finalLoss();
                    return new LocalSgd.RoundSum().add(new LocalSgd.RoundState(net.weights(), round.momentum()));
                }, progress);
        net.load(result.weights(), name -> true); // a run resumed at its end trained nothing here
        // The training's time in earlier, killed attempts counts too.
        double earlierSeconds = Math.max(0, result.wallSeconds() - (System.nanoTime() - trainingStart) / 1e9);
        return new Trained(result.steps(), earlierSeconds, Double.isNaN(lastLoss[0]) ? null : lastLoss[0]);
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
