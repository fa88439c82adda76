package org.sparsetransfer.core.experiment;

import ai.djl.Device;
import java.util.LinkedHashSet;
import java.util.Set;
import org.sparsetransfer.core.config.ExperimentConfig;
import org.sparsetransfer.core.config.RunLength;
import org.sparsetransfer.core.data.ImageSet;
import org.sparsetransfer.core.model.Architecture;
import org.sparsetransfer.core.model.Network;
import org.sparsetransfer.core.model.PrunablePolicy;
import org.sparsetransfer.core.model.TorchThreads;
import org.sparsetransfer.core.model.Weights;
import org.sparsetransfer.core.prune.GmpSchedule;
import org.sparsetransfer.core.prune.MagnitudePruner;
import org.sparsetransfer.core.prune.Mask;
import org.sparsetransfer.core.prune.OneShotSchedule;
import org.sparsetransfer.core.prune.PruningMethod;
import org.sparsetransfer.core.task.TaskRegistry;
import org.sparsetransfer.core.train.ClassCounts;
import org.sparsetransfer.core.train.Evaluator;
import org.sparsetransfer.core.train.Objective;
import org.sparsetransfer.core.train.Scores;
import org.sparsetransfer.core.train.TrainingData;
import org.sparsetransfer.core.train.TrainingLoop;
import org.sparsetransfer.core.train.TrainingSchedule;
import org.sparsetransfer.core.train.TrainingSchedule.LearningRate;

/**
 * Upstream work on one dataset's splits: dense training from scratch, and each pruning method.
 * Every method is a {@link TrainingSchedule} run by the same {@link TrainingLoop}; this class
 * chooses schedules and hyperparameters, and does the between-round mask work of IMP and COLT.
 * Each public method is one unit of work for one Spark task.
 */
public final class UpstreamExperiment {
    private final ExperimentConfig config;
    private final TaskRegistry.Splits splits;
    private final Architecture architecture;
    private final InputPipeline inputs;
    private final Device device;
    private final int trainSize;

    /** A dense run, and its weights after {@code rewindStep} steps when asked for. */
    public record DenseRun(TrainedModel model, Weights rewind) {}

    /** Work on {@code splits}; for scoring only, the training split may be null. */
    public UpstreamExperiment(ExperimentConfig config, TaskRegistry.Splits splits, Device device) {
        this(config, splits, device, splits.train() == null ? 0 : splits.train().size());
    }

    private UpstreamExperiment(ExperimentConfig config, TaskRegistry.Splits splits, Device device, int trainSize) {
        this.config = config;
        this.splits = splits;
        this.architecture = Architecture.byName(config.model, config.data.images.imageSize);
        this.inputs = InputPipeline.of(config);
        this.device = device;
        this.trainSize = trainSize;
    }

    /** The schedules of an upstream dataset of {@code trainSize} examples, without data or device: for planning only. */
    public static UpstreamExperiment forPlanning(ExperimentConfig config, int trainSize) {
        return new UpstreamExperiment(config, null, null, trainSize);
    }

    private int classes() {
        return (splits.train() != null ? splits.train() : splits.test()).numClasses();
    }

    /** Steps of the dense run. */
    public int denseSteps() {
        return Math.multiplyExact(config.upstream.epochs, TrainingSchedule.stepsPerEpoch(trainSize, config.upstream.batchSize));
    }

    /** A pruning recipe's length in steps: its epochs count passes over the upstream training split at the pruning batch. */
    public int pruningSteps(RunLength length) {
        return length.steps(trainSize, config.pruning.batchSize);
    }

    /** The dense run's schedule: linear decay from upstream.lr to 0. */
    public TrainingSchedule denseSchedule() {
        return TrainingSchedule.fixedMask(denseSteps(), LearningRate.linear(config.upstream.lr, 0f));
    }

    /** The dense run's optimizer and batching settings. */
    public TrainingLoop.Settings denseSettings() {
        ExperimentConfig.Upstream u = config.upstream;
        return new TrainingLoop.Settings(u.batchSize, u.momentum, u.weightDecay, config.seed);
    }

    /** Trains the dense model from an initialization seeded by the config's seed. */
    public TrainedModel trainDense(TrainingLoop.Progress progress) throws Exception {
        return trainDense(progress, -1).model();
    }

    /** As {@link #trainDense(TrainingLoop.Progress)}, keeping the weights after {@code rewindStep} steps (if >= 0). */
    public DenseRun trainDense(TrainingLoop.Progress progress, int rewindStep) throws Exception {
        return TorchThreads.exclusive(() -> {
            try (Network net = Network.classifier(architecture, classes(), config.seed, device)) {
                TrainingSchedule schedule = denseSchedule();
                Weights[] rewind = new Weights[1];
                TrainingLoop loop = new TrainingLoop(denseSettings(), progress)
                        .withStepListener((done, network) -> {
                            if (done == rewindStep) {
                                rewind[0] = network.weights();
                            }
                        });
                return new DenseRun(trainAndScore(net, loop, schedule, null, progress), rewind[0]);
            }
        });
    }

    /** The dense model's initialization (theta_0 of lottery tickets and COLT). */
    public Weights initialWeights() throws Exception {
        return TorchThreads.exclusive(() -> {
            try (Network net = Network.classifier(architecture, classes(), config.seed, device)) {
                return net.weights();
            }
        });
    }

    /** The schedule of a single-run pruning method (one-shot, GMP*, classic GMP) to {@code sparsity}. */
    public TrainingSchedule pruneSchedule(PruningMethod method, double sparsity) {
        ExperimentConfig.Pruning p = config.pruning;
        return switch (method) {
            case ONESHOT -> new OneShotSchedule(sparsity, pruningSteps(p.oneshot.length()), LearningRate.linear(p.oneshot.lr, 0f));
            case GMP_STAR -> cubic(GmpSchedule.star(sparsity), p.gmpStar)
                    .initialSparsity(p.gmpStar.initialSparsity)
                    .warmupSteps(pruningSteps(p.gmpStar.warmup()))
                    .learningRate(p.gmpStar.lrMax, p.gmpStar.lrMin)
                    .build();
            case GMP -> cubic(GmpSchedule.classic(sparsity), p.gmp).learningRate(p.gmp.lrMax, 0f).build();
            default -> throw new IllegalArgumentException(method.key() + " is not a single-run pruning method");
        };
    }

    /** How a single-run pruning method ranks weights (classic GMP has its own criterion). */
    public MagnitudePruner pruner(PruningMethod method) {
        return MagnitudePruner.forCriterion(method == PruningMethod.GMP ? config.pruning.gmp.criterion : config.pruning.criterion);
    }

    /** Optimizer and batching settings of a pruning run, with its own seed. */
    public TrainingLoop.Settings pruneSettings(PruningMethod method, double sparsity) {
        ExperimentConfig.Pruning p = config.pruning;
        return new TrainingLoop.Settings(p.batchSize, p.momentum, p.weightDecay, runSeed(method, sparsity));
    }

    /** Whether a pruning run distills from the dense model (GMP* with hardness > 0). */
    public boolean distills(PruningMethod method) {
        return method == PruningMethod.GMP_STAR && config.pruning.gmpStar.hardness > 0;
    }

    /** One-shot, GMP* or classic GMP from the dense weights to {@code sparsity}. */
    public TrainedModel prune(PruningMethod method, double sparsity, Weights dense, TrainingLoop.Progress progress)
            throws Exception {
        TrainingSchedule schedule = pruneSchedule(method, sparsity);
        MagnitudePruner pruner = pruner(method);
        TrainingLoop.Settings settings = pruneSettings(method, sparsity);
        return TorchThreads.exclusive(() -> {
            try (Network net = Network.classifier(architecture, classes(), settings.seed(), device)) {
                net.load(dense, name -> true);
                net.setMask(Mask.dense(dense, prunable(net)));
                TrainingLoop loop = new TrainingLoop(settings, progress);
                if (distills(method)) {
                    try (Network teacher = teacher(dense, settings.seed())) {
                        return trainAndScore(net, loop.withObjective(distillation(teacher)), schedule, pruner, progress);
                    }
                }
                return trainAndScore(net, loop, schedule, pruner, progress);
            }
        });
    }

    /** The mask a pruning run starts from: every prunable tensor, nothing pruned. */
    public Mask denseMask(Weights dense) throws Exception {
        return TorchThreads.exclusive(() -> {
            try (Network net = Network.classifier(architecture, classes(), config.seed, device)) {
                return Mask.dense(dense, prunable(net));
            }
        });
    }

    /** A worker's weights and momentum buffers after a data-parallel round. */
    public record RoundState(Weights weights, Weights momentum) implements java.io.Serializable {}

    /**
     * One worker's share of a data-parallel round (see {@code DataParallelPlan}): {@code start}
     * under {@code mask} (null when dense), trained on this experiment's training split (the
     * worker's shard) for the round's steps from the given momentum buffers (null: zero), with
     * no pruning inside the round; distills from {@code teacher} when it is not null.
     */
    public RoundState trainRound(Weights start, Weights momentum, Mask mask, TrainingSchedule round,
            TrainingLoop.Settings settings, Weights teacher) throws Exception {
        return TorchThreads.exclusive(() -> {
            try (Network net = Network.classifier(architecture, classes(), settings.seed(), device);
                    TrainingData data = upload(net, splits.train())) {
                net.load(start, name -> true);
                if (mask != null) {
                    net.setMask(mask);
                }
                TrainingLoop loop = new TrainingLoop(settings, TrainingLoop.Progress.SILENT);
                TrainingLoop.RoundResult result;
                if (teacher != null) {
                    try (Network t = teacher(teacher, settings.seed())) {
                        result = loop.withObjective(distillation(t)).runRound(net, data, round, momentum);
                    }
                } else {
                    result = loop.runRound(net, data, round, momentum);
                }
                return new RoundState(net.weights(), result.momentum());
            }
        });
    }

    /** Scores trained weights on the validation and test splits (after data-parallel training). */
    public TrainedModel evaluate(Weights weights, Mask mask, int steps, long examplesSeen, double wallSeconds,
            TrainingLoop.Progress progress) throws Exception {
        return TorchThreads.exclusive(() -> {
            try (Network net = Network.classifier(architecture, classes(), config.seed, device)) {
                net.load(weights, name -> true);
                if (mask != null) {
                    net.setMask(mask);
                }
                return score(net, new TrainingLoop.Result(steps, examplesSeen, wallSeconds, Double.NaN, Double.NaN), progress);
            }
        });
    }

    /**
     * Per-class counts of trained weights' predictions on {@code part} (a part of a validation or
     * test split: the evaluations of a split's parts sum into its scores, see {@link ClassCounts}).
     */
    public ClassCounts count(Weights weights, Mask mask, ImageSet part) throws Exception {
        return TorchThreads.exclusive(() -> {
            try (Network net = Network.classifier(architecture, part.numClasses(), config.seed, device);
                    TrainingData data = upload(net, part)) {
                net.load(weights, name -> true);
                if (mask != null) {
                    net.setMask(mask);
                }
                return Evaluator.count(net, data);
            }
        });
    }

    /** The line a scored run logs, as {@link #evaluate} logs it: both splits' top-1, the sparsity, the cost. */
    public static String scoredLine(Scores val, Scores test, Mask mask, int steps, double wallSeconds) {
        return String.format("done: val top-1 %.2f%%  test top-1 %.2f%%  sparsity %.4f  %d steps  %.1fs",
                100 * val.top1(), 100 * test.top1(), mask == null ? 0.0 : mask.sparsity(), steps, wallSeconds);
    }

    private Network teacher(Weights dense, long seed) {
        Network teacher = Network.classifier(architecture, classes(), seed, device);
        teacher.load(dense, name -> true);
        return teacher;
    }

    private Objective distillation(Network teacher) {
        return Objective.distillation(teacher, config.pruning.gmpStar.hardness, config.pruning.gmpStar.temperature);
    }

    private GmpSchedule.Builder cubic(GmpSchedule.Builder builder, ExperimentConfig.GmpRecipe recipe) {
        return builder.pruningSteps(recipe.pruningSteps).interval(pruningSteps(recipe.interval()))
                .recoverySteps(pruningSteps(recipe.recovery()));
    }

    /**
     * IMP rounds from {@code start} (weights and mask; mask null when dense) through {@code rounds}
     * (sparsity after each round): prune by global magnitude, reset by the retraining mode, retrain.
     *
     * @param rewind the weights after the rewind step of dense training (weight_rewind only; null otherwise)
     */
    public TrainedModel impRounds(Weights start, Mask startMask, Weights rewind, double[] rounds, TrainingLoop.Progress progress)
            throws Exception {
        MagnitudePruner pruner = MagnitudePruner.forCriterion(config.pruning.criterion);
        TrainingLoop.Settings settings = impSettings(rounds[rounds.length - 1]);
        TrainingSchedule retrain = impRetrainSchedule();
        return TorchThreads.exclusive(() -> {
            try (Network net = Network.classifier(architecture, classes(), settings.seed(), device)) {
                net.load(start, name -> true);
                Mask mask = startMask != null ? startMask : Mask.dense(start, prunable(net));
                TrainingLoop loop = new TrainingLoop(settings, progress);
                TrainingLoop.Result total = null;
                try (TrainingData train = upload(net, splits.train())) {
                    for (int r = 0; r < rounds.length; r++) {
                        mask = pruner.prune(net.weights(), mask, rounds[r]);
                        if (impRewinds()) {
                            net.load(rewind, name -> true);
                        }
                        net.setMask(mask);
                        progress.log(String.format("round %d/%d: pruned to sparsity %.4f, %s", r + 1, rounds.length,
                                mask.sparsity(), config.pruning.imp.mode.replace('_', ' ')));
                        TrainingLoop.Result result = loop.run(net, train, retrain, null);
                        total = total == null ? result : add(total, result);
                    }
                }
                return score(net, total, progress);
            }
        });
    }

    /** What an IMP round retrains after pruning: imp.retrain_steps with the learning rate of imp.mode. */
    public TrainingSchedule impRetrainSchedule() {
        ExperimentConfig.Imp imp = config.pruning.imp;
        // LR at the rewind step of the dense run's linear decay: where rewinding resumes the schedule.
        float lrAtRewind = config.upstream.lr * (1f - Math.min(1f, impRewindStep() / (float) denseSteps()));
        LearningRate lr = switch (imp.mode) {
            case "weight_rewind", "lr_rewind" -> LearningRate.linear(lrAtRewind, 0f);
            case "finetune" -> (step, total) -> imp.finetuneLr;
            case "linear_decay" -> LearningRate.linear(config.upstream.lr, 0f);
            default -> throw new IllegalArgumentException("unknown IMP mode " + imp.mode);
        };
        return TrainingSchedule.fixedMask(pruningSteps(imp.retrain()), lr);
    }

    /** The dense run's step whose weights IMP rewinds to (rewind_epoch counts the dense run's epochs). */
    public int impRewindStep() {
        return config.pruning.imp.rewindPoint().steps(trainSize, config.upstream.batchSize);
    }

    /** Whether IMP rounds retrain from the rewind point (weight_rewind) rather than from the current weights. */
    public boolean impRewinds() {
        return config.pruning.imp.rewindsWeights();
    }

    /** Optimizer settings of the IMP rounds that end at {@code finalSparsity}. */
    public TrainingLoop.Settings impSettings(double finalSparsity) {
        ExperimentConfig.Pruning p = config.pruning;
        return new TrainingLoop.Settings(p.batchSize, p.momentum, p.weightDecay, runSeed(PruningMethod.IMP, finalSparsity));
    }

    /** COLT: one segment model trained from theta_0 under the shared mask; returns its weights. */
    public Weights coltSegment(Weights theta0, Mask shared, ImageSet segment, int index, TrainingLoop.Progress progress)
            throws Exception {
        TrainingLoop.Settings settings = coltSegmentSettings(index);
        return TorchThreads.exclusive(() -> {
            try (Network net = coltSegmentModel(theta0, segment, index)) {
                net.setMask(shared);
                try (TrainingData data = upload(net, segment)) {
                    new TrainingLoop(settings, progress).run(net, data, coltSegmentSchedule(segment.size()), null);
                }
                return net.weights();
            }
        });
    }

    /** A COLT segment model's weights before training: theta_0's backbone and the segment's own seeded head. */
    public Weights coltSegmentStart(Weights theta0, ImageSet segment, int index) throws Exception {
        return TorchThreads.exclusive(() -> {
            try (Network net = coltSegmentModel(theta0, segment, index)) {
                return net.weights();
            }
        });
    }

    private Network coltSegmentModel(Weights theta0, ImageSet segment, int index) {
        // The head's init is part of theta_0: seeded per segment, so rewinding restores it.
        Network net = Network.classifier(architecture, segment.numClasses(), coltSegmentSettings(index).seed(), device);
        net.load(theta0, net::isFeatureParameter);
        return net;
    }

    /** What a COLT segment model trains per round on its segment of {@code segmentSize} examples (train_epochs are passes over it). */
    public TrainingSchedule coltSegmentSchedule(long segmentSize) {
        return TrainingSchedule.fixedMask(config.pruning.colt.segmentTraining().steps(segmentSize, config.pruning.batchSize),
                LearningRate.linear(config.pruning.colt.lr, 0f));
    }

    /** Optimizer settings of COLT segment {@code index} (its seed also initializes its head). */
    public TrainingLoop.Settings coltSegmentSettings(int index) {
        ExperimentConfig.Pruning p = config.pruning;
        return new TrainingLoop.Settings(p.batchSize, p.momentum, p.weightDecay, config.seed * 7919 + 101 + index);
    }

    /** COLT's upstream model: the ticket (theta_0 under the mask) trained on all upstream data with a full head. */
    public TrainedModel coltFinal(Weights theta0, Mask mask, TrainingLoop.Progress progress) throws Exception {
        TrainingLoop.Settings settings = coltFinalSettings(mask.sparsity());
        return TorchThreads.exclusive(() -> {
            try (Network net = Network.classifier(architecture, classes(), config.seed, device)) {
                net.load(theta0, name -> true);
                net.setMask(mask);
                return trainAndScore(net, new TrainingLoop(settings, progress), coltFinalSchedule(), null, progress);
            }
        });
    }

    /** The COLT ticket's training on all upstream data. */
    public TrainingSchedule coltFinalSchedule() {
        return TrainingSchedule.fixedMask(pruningSteps(config.pruning.colt.finalTraining()), LearningRate.linear(config.pruning.colt.lr, 0f));
    }

    /** Optimizer settings of the COLT ticket's training at {@code sparsity}. */
    public TrainingLoop.Settings coltFinalSettings(double sparsity) {
        ExperimentConfig.Pruning p = config.pruning;
        return new TrainingLoop.Settings(p.batchSize, p.momentum, p.weightDecay, runSeed(PruningMethod.COLT, sparsity));
    }

    /** The tensors COLT masks: the prunable ones of the backbone (heads differ per segment). */
    public Set<String> coltTensors() throws Exception {
        return TorchThreads.exclusive(() -> {
            try (Network net = Network.classifier(architecture, classes(), config.seed, device)) {
                Set<String> names = new LinkedHashSet<>();
                for (String name : prunable(net)) {
                    if (net.isFeatureParameter(name)) {
                        names.add(name);
                    }
                }
                return names;
            }
        });
    }

    private Set<String> prunable(Network net) {
        return net.prunableTensors(new PrunablePolicy(config.pruning.pruneFirstLayer, config.pruning.pruneHead));
    }

    /** Each (method, sparsity) run shuffles differently but reproducibly. */
    private long runSeed(PruningMethod method, double sparsity) {
        return config.seed * 31 + method.ordinal() * 1_000_003L + Math.round(sparsity * 1e4);
    }

    private TrainingData upload(Network net, ImageSet images) {
        return inputs.open(net.manager(), images);
    }

    private static TrainingLoop.Result add(TrainingLoop.Result a, TrainingLoop.Result b) {
        return new TrainingLoop.Result(a.steps() + b.steps(), a.examplesSeen() + b.examplesSeen(),
                a.wallSeconds() + b.wallSeconds(), b.finalLoss(), b.finalTrainAccuracy());
    }

    private TrainedModel trainAndScore(Network net, TrainingLoop loop, TrainingSchedule schedule, MagnitudePruner pruner,
            TrainingLoop.Progress progress) {
        try (TrainingData train = upload(net, splits.train())) {
            return score(net, loop.run(net, train, schedule, pruner), progress);
        }
    }

    private TrainedModel score(Network net, TrainingLoop.Result result, TrainingLoop.Progress progress) {
        try (TrainingData val = upload(net, splits.val()); TrainingData test = upload(net, splits.test())) {
            Scores valScores = Evaluator.evaluate(net, val);
            Scores testScores = Evaluator.evaluate(net, test);
            progress.log(scoredLine(valScores, testScores, net.mask(), result.steps(), result.wallSeconds()));
            return TrainedModel.of(net.weights(), net.mask(), valScores, testScores, result);
        }
    }
}
