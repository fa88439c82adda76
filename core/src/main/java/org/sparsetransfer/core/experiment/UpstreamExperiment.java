package org.sparsetransfer.core.experiment;

import ai.djl.Device;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.sparsetransfer.core.config.ExperimentConfig;
import org.sparsetransfer.core.config.RunLength;
import org.sparsetransfer.core.data.ImageSet;
import org.sparsetransfer.core.data.ImageSource;
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
import org.sparsetransfer.core.train.DataParallelPlan;
import org.sparsetransfer.core.train.Evaluator;
import org.sparsetransfer.core.train.LocalSgd;
import org.sparsetransfer.core.train.Objective;
import org.sparsetransfer.core.train.Scores;
import org.sparsetransfer.core.train.TrainingData;
import org.sparsetransfer.core.train.TrainingLoop;
import org.sparsetransfer.core.train.TrainingSchedule;
import org.sparsetransfer.core.train.TrainingSchedule.LearningRate;

/**
 * Upstream work on one dataset: dense training from scratch, and each pruning method. Every
 * training is a {@link TrainingSchedule} run by {@link LocalSgd} over N workers (N = 1 included:
 * there is one training path), whose rounds each worker runs with {@link #trainRound}; this class
 * chooses schedules and hyperparameters, and does the between-training mask work of IMP. How a
 * round's workers run is a {@link LocalSgd.Trainer}: {@link #inProcess} here, Spark tasks in
 * {@code jobs}.
 */
public final class UpstreamExperiment {
    private final ExperimentConfig config;
    private final TaskRegistry.Splits splits;
    private final Architecture architecture;
    private final InputPipeline inputs;
    private final Device device;
    private final int trainSize;
    private final int numClasses;

    /** A dense run, and its weights after {@code rewindStep} steps when asked for. */
    public record DenseRun(TrainedModel model, Weights rewind) {}

    /** Work on {@code splits}, trained in this JVM; for scoring only, the training split may be null. */
    public UpstreamExperiment(ExperimentConfig config, TaskRegistry.Splits splits, Device device) {
        this(config, splits, device, splits.train() == null ? 0 : splits.train().size(),
                (splits.train() != null ? splits.train() : splits.test()).numClasses());
    }

    private UpstreamExperiment(ExperimentConfig config, TaskRegistry.Splits splits, Device device, int trainSize, int numClasses) {
        this.config = config;
        this.splits = splits;
        this.architecture = Architecture.byName(config.model, config.data.images.imageSize);
        this.inputs = InputPipeline.of(config);
        this.device = device;
        this.trainSize = trainSize;
        this.numClasses = numClasses;
    }

    /** The schedules of an upstream dataset of {@code trainSize} examples, without data or device: for planning only. */
    public static UpstreamExperiment forPlanning(ExperimentConfig config, int trainSize) {
        return new UpstreamExperiment(config, null, null, trainSize, 0);
    }

    /**
     * The model of an upstream dataset with {@code numClasses} classes on {@code device}, without
     * data: for initial weights, masks and workers' rounds on data they bring themselves.
     */
    public static UpstreamExperiment forModel(ExperimentConfig config, int numClasses, Device device) {
        return new UpstreamExperiment(config, null, device, 0, numClasses);
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

    /**
     * Runs trainings in this JVM, one worker per shard in turn ({@code localSteps} between
     * averagings when there are several); worker 0 reports progress.
     */
    public LocalSgd.Trainer inProcess(List<? extends ImageSource> shards, int localSteps, TrainingLoop.Progress progress) {
        return inProcess(shards, localSteps, LocalSgd.StatePolicy.NONE, progress);
    }

    /** As {@link #inProcess(List, int, TrainingLoop.Progress)}, saving and resuming training states as {@code states} says. */
    public LocalSgd.Trainer inProcess(List<? extends ImageSource> shards, int localSteps, LocalSgd.StatePolicy states,
            TrainingLoop.Progress progress) {
        int workers = shards.size();
        return (schedule, pruner, settings, start, startMask, teacher, keepAtStep) -> LocalSgd.train(schedule, workers, localSteps,
                settings.batchSize(), pruner, start, startMask, keepAtStep, states.saving(schedule, workers, localSteps, settings,
                        pruner, start, startMask, teacher, keepAtStep), input -> {
                    LocalSgd.RoundSum sum = new LocalSgd.RoundSum();
                    for (int w = 0; w < workers; w++) {
                        sum.add(trainRound(input, settings, w, workers, shards.get(w), teacher,
                                w == 0 ? progress : TrainingLoop.Progress.SILENT));
                    }
                    return sum;
                }, progress);
    }

    /** One worker in this JVM on this experiment's training split. */
    public LocalSgd.Trainer inProcess(TrainingLoop.Progress progress) {
        return inProcess(List.of(splits.train()), 1, progress);
    }

    /**
     * Worker {@code worker}'s share of one round (see {@link DataParallelPlan}) on its
     * {@code shard}: the round's start weights under its mask, trained for the round's steps from
     * the round's momentum buffers, continuing the worker's batch order where the previous round
     * left it, with no pruning inside the round; distills from {@code teacher} when not null.
     *
     * @param run the training's settings: its (global) batch and seed, which this worker's derive from
     */
    public LocalSgd.RoundState trainRound(LocalSgd.RoundInput input, TrainingLoop.Settings run, int worker, int workers,
            ImageSource shard, Weights teacher, TrainingLoop.Progress progress) throws Exception {
        TrainingLoop.Settings settings = new TrainingLoop.Settings(DataParallelPlan.workerBatch(run.batchSize(), workers),
                run.momentum(), run.weightDecay(), DataParallelPlan.workerSeed(run.seed(), worker));
        return TorchThreads.exclusive(() -> {
            try (Network net = Network.classifier(architecture, shard.numClasses(), settings.seed(), device);
                    TrainingData data = upload(net, shard)) {
                net.load(input.weights(), name -> true);
                if (input.mask() != null) {
                    net.setMask(input.mask());
                }
                TrainingLoop loop = new TrainingLoop(settings, progress);
                TrainingLoop.RoundResult result;
                if (teacher != null) {
                    try (Network t = teacher(teacher, shard.numClasses(), settings.seed())) {
                        result = loop.withObjective(distillation(t)).runRound(net, data, input.schedule(), input.firstStep(),
                                input.runSteps(), input.momentum());
                    }
                } else {
                    result = loop.runRound(net, data, input.schedule(), input.firstStep(), input.runSteps(), input.momentum());
                }
                return new LocalSgd.RoundState(net.weights(), result.momentum());
            }
        });
    }

    /** The dense run from {@code init}, keeping its weights after {@code keepAtStep} steps when that is not -1. */
    public LocalSgd.Result trainDense(LocalSgd.Trainer trainer, Weights init, int keepAtStep) throws Exception {
        return trainer.train(denseSchedule(), null, denseSettings(), init, null, null, keepAtStep);
    }

    /**
     * The dense run's weights after its first {@code rewindStep} steps (IMP's rewind point, when
     * the dense checkpoint exists without it): only those steps are trained, with the dense run's
     * learning rates and batches, so the weights are the ones the whole run passes through.
     */
    public Weights denseRewind(LocalSgd.Trainer trainer, Weights init, int rewindStep) throws Exception {
        if (rewindStep == 0) {
            return init;
        }
        TrainingSchedule dense = denseSchedule();
        float[] rates = new float[rewindStep];
        for (int s = 0; s < rewindStep; s++) {
            rates[s] = dense.learningRate(s);
        }
        return trainer.train(TrainingSchedule.ofRates(rates), null, denseSettings(), init, null, null, -1).weights();
    }

    /** Trains the dense model in this JVM from an initialization seeded by the config's seed. */
    public TrainedModel trainDense(TrainingLoop.Progress progress) throws Exception {
        return trainDense(progress, -1).model();
    }

    /** As {@link #trainDense(TrainingLoop.Progress)}, keeping the weights after {@code rewindStep} steps (if >= 0). */
    public DenseRun trainDense(TrainingLoop.Progress progress, int rewindStep) throws Exception {
        LocalSgd.Result run = trainDense(inProcess(progress), initialWeights(), rewindStep);
        return new DenseRun(score(run, progress), run.kept());
    }

    /** The dense model's initialization (theta_0 of lottery tickets and COLT). */
    public Weights initialWeights() throws Exception {
        return TorchThreads.exclusive(() -> {
            try (Network net = Network.classifier(architecture, numClasses, config.seed, device)) {
                return net.weights();
            }
        });
    }

    /** Checks that {@code weights} fit this model (names and shapes), with the error that says which tensor does not. */
    public void requireFits(Weights weights) throws Exception {
        TorchThreads.exclusive(() -> {
            try (Network net = Network.classifier(architecture, numClasses, config.seed, device)) {
                net.load(weights, name -> true);
                return null;
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

    /** One-shot, GMP* or classic GMP from the dense weights (under {@code denseMask}) to {@code sparsity}. */
    public LocalSgd.Result prune(PruningMethod method, double sparsity, Weights dense, Mask denseMask, LocalSgd.Trainer trainer)
            throws Exception {
        return trainer.train(pruneSchedule(method, sparsity), pruner(method), pruneSettings(method, sparsity), dense, denseMask,
                distills(method) ? dense : null, -1);
    }

    /** As {@link #prune(PruningMethod, double, Weights, Mask, LocalSgd.Trainer)}, in this JVM, scored. */
    public TrainedModel prune(PruningMethod method, double sparsity, Weights dense, TrainingLoop.Progress progress)
            throws Exception {
        return score(prune(method, sparsity, dense, denseMask(dense), inProcess(progress)), progress);
    }

    /** The mask a pruning run starts from: every prunable tensor, nothing pruned. */
    public Mask denseMask(Weights dense) throws Exception {
        return TorchThreads.exclusive(() -> {
            try (Network net = Network.classifier(architecture, numClasses, config.seed, device)) {
                return Mask.dense(dense, prunable(net));
            }
        });
    }

    /** Scores trained weights on the validation and test splits (after data-parallel training). */
    public TrainedModel evaluate(Weights weights, Mask mask, int steps, long examplesSeen, double wallSeconds,
            TrainingLoop.Progress progress) throws Exception {
        return TorchThreads.exclusive(() -> {
            try (Network net = Network.classifier(architecture, numClasses, config.seed, device)) {
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
    public ClassCounts count(Weights weights, Mask mask, ImageSource part) throws Exception {
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

    private Network teacher(Weights dense, int classes, long seed) {
        Network teacher = Network.classifier(architecture, classes, seed, device);
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
     * IMP rounds from {@code start} under {@code startMask} through {@code rounds} (sparsity after
     * each round): prune by global magnitude, reset by the retraining mode, retrain (each round a
     * training of its own, from zero momentum).
     *
     * @param rewind the weights after the rewind step of dense training (weight_rewind only; null otherwise)
     */
    public LocalSgd.Result impRounds(Weights start, Mask startMask, Weights rewind, double[] rounds, LocalSgd.Trainer trainer,
            TrainingLoop.Progress progress) throws Exception {
        MagnitudePruner pruner = MagnitudePruner.forCriterion(config.pruning.criterion);
        TrainingLoop.Settings settings = impSettings(rounds[rounds.length - 1]);
        TrainingSchedule retrain = impRetrainSchedule();
        Weights weights = start;
        Mask mask = startMask;
        LocalSgd.Result total = null;
        for (int r = 0; r < rounds.length; r++) {
            mask = pruner.prune(weights, mask, rounds[r]);
            progress.log(String.format("round %d/%d: pruned to sparsity %.4f, %s", r + 1, rounds.length, mask.sparsity(),
                    config.pruning.imp.mode.replace('_', ' ')));
            LocalSgd.Result result = trainer.train(retrain, null, settings, impRewinds() ? rewind : weights, mask, null, -1);
            weights = result.weights();
            total = total == null ? result : total.then(result);
        }
        return total;
    }

    /** As {@link #impRounds(Weights, Mask, Weights, double[], LocalSgd.Trainer, TrainingLoop.Progress)}, in this JVM, scored. */
    public TrainedModel impRounds(Weights start, Mask startMask, Weights rewind, double[] rounds, TrainingLoop.Progress progress)
            throws Exception {
        return score(impRounds(start, startMask != null ? startMask : denseMask(start), rewind, rounds, inProcess(progress),
                progress), progress);
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

    /**
     * COLT: segment {@code index}'s model (its start from {@link #coltSegmentStart}) trained under
     * the shared mask on its segment of {@code segmentSize} examples; returns its weights.
     */
    public Weights coltSegment(Weights segmentStart, Mask shared, long segmentSize, int index, LocalSgd.Trainer trainer)
            throws Exception {
        return trainer.train(coltSegmentSchedule(segmentSize), null, coltSegmentSettings(index), segmentStart, shared, null, -1)
                .weights();
    }

    /**
     * A COLT segment model's weights before training: theta_0's backbone and the segment's own
     * seeded head of {@code segmentClasses} classes (its init is part of theta_0: seeded per
     * segment, so rewinding restores it).
     */
    public Weights coltSegmentStart(Weights theta0, int segmentClasses, int index) throws Exception {
        return TorchThreads.exclusive(() -> {
            try (Network net = Network.classifier(architecture, segmentClasses, coltSegmentSettings(index).seed(), device)) {
                net.load(theta0, net::isFeatureParameter);
                return net.weights();
            }
        });
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
    public LocalSgd.Result coltFinal(Weights theta0, Mask mask, LocalSgd.Trainer trainer) throws Exception {
        return trainer.train(coltFinalSchedule(), null, coltFinalSettings(mask.sparsity()), theta0, mask, null, -1);
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
            try (Network net = Network.classifier(architecture, numClasses, config.seed, device)) {
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

    private TrainingData upload(Network net, ImageSource images) {
        return inputs.open(net.manager(), images);
    }

    /** Scores a training's result on this experiment's validation and test splits, in this JVM. */
    public TrainedModel score(LocalSgd.Result result, TrainingLoop.Progress progress) throws Exception {
        return evaluate(result.weights(), result.mask(), result.steps(), result.examplesSeen(), result.wallSeconds(), progress);
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
