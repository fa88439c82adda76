package org.sparsetransfer.core.experiment;

import ai.djl.Device;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.sparsetransfer.core.config.ExperimentConfig;
import org.sparsetransfer.core.data.ImageSource;
import org.sparsetransfer.core.model.Architecture;
import org.sparsetransfer.core.model.Network;
import org.sparsetransfer.core.model.PrunablePolicy;
import org.sparsetransfer.core.model.TorchThreads;
import org.sparsetransfer.core.model.Weights;
import org.sparsetransfer.core.prune.Mask;
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

/**
 * Upstream model work on one dataset: dense training, a worker's share of any training's round
 * ({@link #trainRound}), scoring, and the model's initialization, masks and heads. Every training
 * is a {@link TrainingSchedule} run by {@link LocalSgd} over N workers (N = 1 included: there is
 * one training path); how a round's workers run is a {@link LocalSgd.Trainer}: {@link #inProcess}
 * here, Spark tasks in {@code jobs}. Schedules come from {@link UpstreamSchedules}, the pruning
 * methods' algorithms from their plug-ins ({@link org.sparsetransfer.core.method.PruningMethod}).
 */
public final class UpstreamExperiment {
    private final ExperimentConfig config;
    private final TaskRegistry.Splits splits;
    private final Architecture architecture;
    private final InputPipeline inputs;
    private final Device device;
    private final UpstreamSchedules schedules;
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
        this.schedules = new UpstreamSchedules(config, trainSize);
        this.numClasses = numClasses;
    }

    /** The schedules of this experiment's training split. */
    public UpstreamSchedules schedules() {
        return schedules;
    }

    /**
     * The model of an upstream dataset with {@code numClasses} classes on {@code device}, without
     * data: for initial weights, masks and workers' rounds on data they bring themselves.
     */
    public static UpstreamExperiment forModel(ExperimentConfig config, int numClasses, Device device) {
        return new UpstreamExperiment(config, null, device, 0, numClasses);
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
        return (schedule, updater, settings, start, startMask, teacher, keepAtStep) -> LocalSgd.train(schedule, workers, localSteps,
                settings.batchSize(), updater, start, startMask, keepAtStep, states.saving(schedule, workers, localSteps, settings,
                        updater, start, startMask, teacher, keepAtStep), input -> {
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
     * left it, with no pruning inside the round; distills from {@code teacher} when not null. A
     * {@link LocalSgd.RoundInput#gradientOnly} round trains nothing and returns the gradient of its
     * next batch as the state's weights.
     *
     * @param run the training's settings: its (global) batch and seed, which this worker's derive from
     */
    public LocalSgd.RoundState trainRound(LocalSgd.RoundInput input, TrainingLoop.Settings run, int worker, int workers,
            ImageSource shard, Weights teacher, TrainingLoop.Progress progress) throws Exception {
        TrainingLoop.Settings settings = run.forWorker(DataParallelPlan.workerBatch(run.batchSize(), workers),
                DataParallelPlan.workerSeed(run.seed(), worker));
        return TorchThreads.exclusive(() -> {
            try (Network net = Network.classifier(architecture, shard.numClasses(), settings.seed(), device);
                    TrainingData data = upload(net, shard)) {
                net.load(input.weights(), name -> true);
                if (input.mask() != null) {
                    net.setMask(input.mask());
                }
                TrainingLoop loop = new TrainingLoop(settings, progress);
                if (input.gradientOnly()) {
                    return new LocalSgd.RoundState(loop.gradient(net, data, input.firstStep()), null);
                }
                TrainingLoop.RoundResult result;
                if (teacher != null) {
                    try (Network t = teacher(teacher, shard.numClasses(), settings.seed())) {
                        result = loop.withObjective(Objective.distillation(t, settings.distillation().hardness(),
                                settings.distillation().temperature())).runRound(net, data, input.schedule(), input.firstStep(),
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
        return schedules.trainDense(trainer, init, keepAtStep);
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

    /**
     * A model of {@code classes} outputs: {@code backbone}'s feature tensors and a head
     * initialized from {@code seed} (COLT's segment models; the head's init is part of theta_0).
     */
    public Weights withHead(Weights backbone, int classes, long seed) throws Exception {
        return TorchThreads.exclusive(() -> {
            try (Network net = Network.classifier(architecture, classes, seed, device)) {
                net.load(backbone, net::isFeatureParameter);
                return net.weights();
            }
        });
    }

    /** The prunable tensors of the backbone (heads left out: COLT's segment models have their own). */
    public Set<String> backboneTensors() throws Exception {
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
