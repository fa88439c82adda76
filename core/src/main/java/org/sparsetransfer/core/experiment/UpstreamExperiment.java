package org.sparsetransfer.core.experiment;

import ai.djl.Device;
import java.util.Set;
import org.sparsetransfer.core.config.ExperimentConfig;
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
import org.sparsetransfer.core.train.Evaluator;
import org.sparsetransfer.core.train.Scores;
import org.sparsetransfer.core.train.TrainingData;
import org.sparsetransfer.core.train.TrainingLoop;
import org.sparsetransfer.core.train.TrainingSchedule;

/**
 * Upstream work on one dataset's splits: dense training from scratch, and each pruning method
 * from the dense weights. Every method is a {@link TrainingSchedule} run by the same
 * {@link TrainingLoop}; this class only chooses the schedule and the hyperparameters.
 */
public final class UpstreamExperiment {
    private final ExperimentConfig config;
    private final TaskRegistry.Splits splits;
    private final Architecture architecture;
    private final Device device;

    public UpstreamExperiment(ExperimentConfig config, TaskRegistry.Splits splits, Device device) {
        this.config = config;
        this.splits = splits;
        this.architecture = Architecture.byName(config.model);
        this.device = device;
    }

    /** Trains the dense model from an initialization seeded by the config's seed. */
    public TrainedModel trainDense(TrainingLoop.Progress progress) throws Exception {
        return TorchThreads.exclusive(() -> {
            try (Network net = Network.classifier(architecture, splits.train().numClasses(), config.seed, device)) {
                ExperimentConfig.Upstream u = config.upstream;
                int steps = u.epochs * Math.max(1, splits.train().size() / u.batchSize);
                TrainingSchedule schedule = TrainingSchedule.fixedMask(steps, TrainingSchedule.LearningRate.linear(u.lr, 0f));
                TrainingLoop loop = new TrainingLoop(new TrainingLoop.Settings(u.batchSize, u.momentum, u.weightDecay, config.seed), progress);
                return trainAndScore(net, loop, schedule, null, progress);
            }
        });
    }

    /** Prunes the dense weights to {@code sparsity} with {@code method}. */
    public TrainedModel prune(PruningMethod method, double sparsity, Weights dense, TrainingLoop.Progress progress)
            throws Exception {
        if (method == PruningMethod.DENSE) {
            throw new IllegalArgumentException("the dense method is the upstream checkpoint itself");
        }
        ExperimentConfig.Pruning p = config.pruning;
        MagnitudePruner pruner = new MagnitudePruner(
                "layerwise".equals(p.criterion) ? MagnitudePruner.Scope.LAYERWISE : MagnitudePruner.Scope.GLOBAL);
        TrainingSchedule schedule = switch (method) {
            case ONESHOT -> new OneShotSchedule(sparsity, p.oneshot.steps, TrainingSchedule.LearningRate.linear(p.oneshot.lr, 0f));
            case GMP_STAR -> GmpSchedule.star(sparsity)
                    .initialSparsity(p.gmpStar.initialSparsity)
                    .warmupSteps(p.gmpStar.warmupSteps)
                    .pruningSteps(p.gmpStar.pruningSteps)
                    .interval(p.gmpStar.interval)
                    .recoverySteps(p.gmpStar.recoverySteps)
                    .learningRate(p.gmpStar.lrMax, p.gmpStar.lrMin)
                    .build();
            case DENSE -> throw new AssertionError();
        };
        // Each (method, sparsity) run shuffles differently but reproducibly.
        long runSeed = config.seed * 31 + method.ordinal() * 1_000_003L + Math.round(sparsity * 1e4);
        return TorchThreads.exclusive(() -> {
            try (Network net = Network.classifier(architecture, splits.train().numClasses(), runSeed, device)) {
                net.load(dense, name -> true);
                Set<String> prunable = net.prunableTensors(new PrunablePolicy(p.pruneFirstLayer, p.pruneHead));
                net.setMask(Mask.dense(dense, prunable));
                TrainingLoop loop = new TrainingLoop(new TrainingLoop.Settings(p.batchSize, p.momentum, p.weightDecay, runSeed), progress);
                return trainAndScore(net, loop, schedule, pruner, progress);
            }
        });
    }

    private TrainedModel trainAndScore(Network net, TrainingLoop loop, TrainingSchedule schedule, MagnitudePruner pruner,
            TrainingLoop.Progress progress) {
        try (TrainingData train = TrainingData.upload(net.manager(), splits.train());
                TrainingData val = TrainingData.upload(net.manager(), splits.val());
                TrainingData test = TrainingData.upload(net.manager(), splits.test())) {
            TrainingLoop.Result result = loop.run(net, train, schedule, pruner);
            Scores valScores = Evaluator.evaluate(net, val);
            Scores testScores = Evaluator.evaluate(net, test);
            progress.log(String.format("done: val top-1 %.2f%%  test top-1 %.2f%%  sparsity %.4f  %d steps  %.1fs",
                    100 * valScores.top1(), 100 * testScores.top1(), net.mask() == null ? 0.0 : net.mask().sparsity(),
                    result.steps(), result.wallSeconds()));
            return TrainedModel.of(net.weights(), net.mask(), valScores, testScores, result);
        }
    }
}
