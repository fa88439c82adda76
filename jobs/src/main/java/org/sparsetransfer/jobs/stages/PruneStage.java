package org.sparsetransfer.jobs.stages;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.sparsetransfer.core.InvalidInputException;
import org.sparsetransfer.core.checkpoint.CheckpointCodec;
import org.sparsetransfer.core.config.ExperimentConfig;
import org.sparsetransfer.core.config.ExperimentIds;
import org.sparsetransfer.core.data.ImageSet;
import org.sparsetransfer.core.experiment.TrainedModel;
import org.sparsetransfer.core.experiment.UpstreamExperiment;
import org.sparsetransfer.core.model.Weights;
import org.sparsetransfer.core.prune.Colt;
import org.sparsetransfer.core.prune.ImpPlan;
import org.sparsetransfer.core.prune.MagnitudePruner;
import org.sparsetransfer.core.prune.Mask;
import org.sparsetransfer.core.prune.PruningMethod;
import org.sparsetransfer.core.task.TaskRegistry;

/**
 * Runs every pruning method of the config from the dense checkpoint, storing each checkpoint as
 * it finishes; existing checkpoints are skipped. One-shot, GMP and GMP* are one Spark task per
 * target; IMP is one chain through the targets (one task per target's rounds, each resuming
 * from the previous target's checkpoint); COLT is a chain of rounds, each round's K segment
 * trainings running as K parallel Spark tasks and its shared mask stored as a checkpoint.
 */
public final class PruneStage {
    public static final String NAME = "prune";

    /** A one-shot, GMP or GMP* run. */
    public record Job(String id, PruningMethod method, double sparsity, ExperimentConfig config) implements Serializable {}

    /** IMP's rounds from {@code start} to one target. */
    public record ImpJob(CheckpointRecord start, CheckpointRecord rewind, double[] rounds, ExperimentConfig config)
            implements Serializable {
        /** The rewind point's weights; null when the IMP mode does not rewind weights (and so has no rewind checkpoint). */
        Weights rewindWeights() {
            return rewind == null ? null : rewind.decode().weights();
        }
    }

    /** A dense training that keeps the weights of the rewind step. */
    public record RewindJob(int step, ExperimentConfig config) implements Serializable {}

    /** One COLT segment model's training in one round. */
    public record ColtJob(int segment, Weights theta0, Mask shared, ExperimentConfig config) implements Serializable {}

    /** COLT's final ticket trained on the whole upstream dataset. */
    public record ColtFinalJob(Weights theta0, Mask mask, ExperimentConfig config) implements Serializable {}

    /** theta_0, the tensors COLT masks and the sizes of the data segments, computed where the engine and the data are. */
    public record ColtInit(Weights theta0, Set<String> tensors, long[] segmentSizes) implements Serializable {}

    private final Set<PruningMethod> only;

    /** Every method of the config. */
    public PruneStage() {
        this(null);
    }

    /** Only {@code only} of the config's methods (null: all). */
    public PruneStage(Set<PruningMethod> only) {
        this.only = only;
    }

    /** The config's pruning methods, dense left out (it is the upstream checkpoint). */
    public static Set<PruningMethod> methods(ExperimentConfig config) {
        Set<PruningMethod> methods = new LinkedHashSet<>();
        for (String name : config.pruning.methods) {
            PruningMethod method = PruningMethod.parse(name, "pruning.methods");
            if (method != PruningMethod.DENSE) {
                methods.add(method);
            }
        }
        return methods;
    }

    /** The warehouse lock scope of pruning with {@code method}. */
    public static String lockScope(PruningMethod method) {
        return NAME + "-" + method.key();
    }

    public void run(StageContext ctx) {
        ctx.describe(NAME, "planning pruning runs");
        ExperimentIds ids = ctx.ids();
        String denseId = ids.denseId();
        CheckpointRecord dense = ctx.checkpoints().get(denseId).orElseThrow(() -> new InvalidInputException(
                "The dense checkpoint " + denseId + " is not in " + ctx.warehouse().checkpoints() + "; run the upstream command first"));
        dense.decode(); // verify the checksum here, once, before any task relies on it
        List<Double> targets = ctx.config().pruning.sparsities.stream().distinct().sorted().toList();
        List<String> wanted = new ArrayList<>();
        List<PruningMethod> methods = methods(ctx.config()).stream().filter(m -> only == null || only.contains(m)).toList();
        methods.forEach(method -> targets.forEach(s -> wanted.add(ids.prunedId(method, s))));
        Set<String> done = ctx.checkpoints().existing(wanted);
        if (done.size() == wanted.size()) {
            StageContext.log(NAME, "all " + wanted.size() + " pruned checkpoints exist");
            return;
        }
        done.forEach(id -> StageContext.log(NAME, "checkpoint " + id + " exists, skipping"));
        StageContext.log(NAME, (wanted.size() - done.size()) + " of " + wanted.size() + " pruned checkpoints to make");

        UpstreamData data = UpstreamData.locate(ctx);
        Broadcast<CheckpointRecord> parent = ctx.jsc().broadcast(dense);
        List<TrainingJobs.Described> units = new ArrayList<>();
        for (PruningMethod method : methods) {
            List<Double> missing = targets.stream().filter(s -> !done.contains(ids.prunedId(method, s))).toList();
            if (missing.isEmpty()) {
                continue;
            }
            switch (method) {
                case IMP -> units.add(new TrainingJobs.Described(() -> imp(ctx, dense, data), "imp chain to " + missing));
                case COLT -> units.add(new TrainingJobs.Described(() -> colt(ctx, dense, data), "colt rounds to " + missing));
                default -> missing.forEach(s -> units.add(new TrainingJobs.Described(() -> {
                    Job job = new Job(ids.prunedId(method, s), method, s, ctx.config());
                    CheckpointRecord record = ctx.config().pruning.dataParallel.workers > 1 ? singleDataParallel(ctx, job, dense, data, parent)
                            : TrainingJobs.onExecutor(ctx.jsc(), job, j -> single(j, data.splits(), parent.value()));
                    store(ctx, record);
                }, String.format("%s to sparsity %.2f", method.key(), s))));
            }
        }
        TrainingJobs.run(ctx.jsc(), NAME, units);
        parent.destroy();
    }

    private static void store(StageContext ctx, CheckpointRecord record) {
        TrainingJobs.persist(() -> ctx.checkpoints().write(List.of(record)));
        StageContext.log(NAME, Double.isNaN(record.upstreamTop1())
                ? String.format("stored %s: sparsity %.4f", record.id(), record.actualSparsity())
                : String.format("stored %s: sparsity %.4f, upstream test top-1 %.2f%%, %d steps",
                        record.id(), record.actualSparsity(), record.upstreamTop1(), record.trainSteps()));
    }

    private static CheckpointRecord single(Job job, TaskRegistry.Splits splits, CheckpointRecord dense) throws Exception {
        String tag = NAME + " " + job.method().key() + " " + job.sparsity();
        TrainedModel pruned = new UpstreamExperiment(job.config(), splits, Devices.forTask())
                .prune(job.method(), job.sparsity(), dense.decode().weights(), line -> StageContext.log(tag, line));
        return CheckpointRecord.of(job.id(), dense.id(), job.method().key(), NAME, job.sparsity(), pruned, job.config().name);
    }

    /** As {@link #single}, data-parallel over pruning.data_parallel.workers Spark tasks per round. */
    private static CheckpointRecord singleDataParallel(StageContext ctx, Job job, CheckpointRecord dense,
            UpstreamData data, Broadcast<CheckpointRecord> parent) {
        ExperimentConfig config = job.config();
        String tag = NAME + " " + job.method().key() + " " + job.sparsity();
        UpstreamExperiment plan = UpstreamExperiment.forPlanning(config, data.trainExamples());
        Weights weights = dense.decode().weights();
        Mask start = TrainingJobs.onExecutor(ctx.jsc(), job, j -> new UpstreamExperiment(j.config(), data.evaluationSplits(),
                Devices.forTask()).denseMask(parent.value().decode().weights()));
        DataParallelTraining.Result result = DataParallelTraining.train(ctx.jsc(), tag, config.pruning.dataParallel,
                UpstreamData.TrainingRows.wholeSplit(data), plan.pruneSchedule(job.method(), job.sparsity()), plan.pruner(job.method()),
                new DataParallelTraining.Recipe(config, plan.pruneSettings(job.method(), job.sparsity()), plan.distills(job.method())),
                weights, start, weights, -1);
        TrainedModel pruned = DataParallelTraining.score(ctx.jsc(), tag, config, data, result);
        return CheckpointRecord.of(job.id(), dense.id(), job.method().key(), NAME, job.sparsity(), pruned, config.name);
    }

    /** IMP's rounds to one target, each round's retraining data-parallel; pruning and rewinding on the driver. */
    private static CheckpointRecord impDataParallel(StageContext ctx, String id, ImpJob job, double target,
            UpstreamData data) {
        ExperimentConfig config = job.config();
        String tag = NAME + " imp " + target;
        UpstreamExperiment plan = UpstreamExperiment.forPlanning(config, data.trainExamples());
        CheckpointCodec.Decoded start = job.start().decode();
        Weights rewind = job.rewindWeights();
        Weights weights = start.weights();
        Mask mask = start.mask() != null ? start.mask() : TrainingJobs.onExecutor(ctx.jsc(), job,
                j -> new UpstreamExperiment(j.config(), data.evaluationSplits(), Devices.forTask()).denseMask(j.start().decode().weights()));
        MagnitudePruner pruner = MagnitudePruner.forCriterion(config.pruning.criterion);
        DataParallelTraining.Recipe recipe = new DataParallelTraining.Recipe(config, plan.impSettings(target), false);
        DataParallelTraining.Result total = null;
        for (int r = 0; r < job.rounds().length; r++) {
            mask = pruner.prune(weights, mask, job.rounds()[r]);
            StageContext.log(tag, String.format("round %d/%d: pruned to sparsity %.4f, %s", r + 1, job.rounds().length,
                    mask.sparsity(), config.pruning.imp.mode.replace('_', ' ')));
            DataParallelTraining.Result result = DataParallelTraining.train(ctx.jsc(), tag, config.pruning.dataParallel,
                    UpstreamData.TrainingRows.wholeSplit(data), plan.impRetrainSchedule(), null, recipe, plan.impRewinds() ? rewind : weights, mask, null, -1);
            weights = result.weights();
            total = total == null ? result : total.then(result);
        }
        TrainedModel model = DataParallelTraining.score(ctx.jsc(), tag, config, data, total);
        return CheckpointRecord.of(id, job.start().id(), PruningMethod.IMP.key(), "imp", target, model, config.name);
    }

    /**
     * One COLT round's K segment models, each trained data-parallel (the K trainings run at once,
     * N tasks each); returns their averaged weights in segment order.
     */
    private static List<Weights> coltSegmentsDataParallel(StageContext ctx, List<ColtJob> jobs, int round,
            UpstreamData data, long[] segmentSizes) {
        ExperimentConfig config = ctx.config();
        List<Weights> starts = TrainingJobs.onExecutors(ctx.jsc(), jobs, j -> {
            TaskRegistry.Splits splits = data.splits();
            return new UpstreamExperiment(j.config(), splits, Devices.forTask()).coltSegmentStart(j.theta0(),
                    coltSegment(splits, j.config(), j.segment()), j.segment());
        });
        UpstreamExperiment plan = UpstreamExperiment.forPlanning(config, data.trainExamples());
        Weights[] trained = new Weights[jobs.size()];
        List<TrainingJobs.Described> units = new ArrayList<>();
        for (ColtJob job : jobs) {
            int k = job.segment();
            units.add(new TrainingJobs.Described(() -> trained[k] = DataParallelTraining.train(ctx.jsc(),
                    NAME + " colt round " + round + " segment " + k, config.pruning.dataParallel,
                    UpstreamData.TrainingRows.coltSegment(data, config, k),
                    plan.coltSegmentSchedule(segmentSizes[k]), null, new DataParallelTraining.Recipe(config, plan.coltSegmentSettings(k), false),
                    starts.get(k), job.shared(), null, -1).weights(), "colt round " + round + " segment " + k));
        }
        TrainingJobs.run(ctx.jsc(), NAME + " colt round " + round, units);
        return List.of(trained);
    }

    /** COLT segment {@code k} of the upstream training split, as the config defines segments. */
    private static ImageSet coltSegment(TaskRegistry.Splits splits, ExperimentConfig config, int k) {
        return Colt.segments(splits.train(), config.pruning.colt.segments, config.pruning.colt.split.equals("classes"),
                config.data.splitSeed).get(k);
    }

    /** COLT's ticket trained data-parallel on all upstream data. */
    private static CheckpointRecord coltFinalDataParallel(StageContext ctx, String id, String parentId, ColtFinalJob job,
            double target, UpstreamData data) {
        ExperimentConfig config = job.config();
        String tag = NAME + " colt ticket " + target;
        UpstreamExperiment plan = UpstreamExperiment.forPlanning(config, data.trainExamples());
        DataParallelTraining.Result result = DataParallelTraining.train(ctx.jsc(), tag, config.pruning.dataParallel,
                UpstreamData.TrainingRows.wholeSplit(data), plan.coltFinalSchedule(), null,
                new DataParallelTraining.Recipe(config, plan.coltFinalSettings(job.mask().sparsity()), false), job.theta0(),
                job.mask(), null, -1);
        TrainedModel model = DataParallelTraining.score(ctx.jsc(), tag, config, data, result);
        return CheckpointRecord.of(id, parentId, PruningMethod.COLT.key(), "colt_ticket", target, model, config.name);
    }

    /**
     * IMP: the rewind point (only for weight_rewind, the mode that restarts from it), then one task
     * per target, each continuing from the previous checkpoint.
     */
    private static void imp(StageContext ctx, CheckpointRecord dense, UpstreamData data) {
        ExperimentConfig config = ctx.config();
        ExperimentIds ids = ctx.ids();
        JavaSparkContext jsc = ctx.jsc();
        String rewindId = ids.rewindId();
        String denseId = dense.id();
        CheckpointRecord rewind = !config.pruning.imp.rewindsWeights() ? null : ctx.checkpoints().get(rewindId).orElseGet(() -> {
            int rewindStep = UpstreamExperiment.forPlanning(config, data.trainExamples()).impRewindStep();
            StageContext.log(NAME, "imp: retraining the dense model to keep its weights at step " + rewindStep);
            RewindJob job = new RewindJob(rewindStep, config);
            CheckpointRecord record = TrainingJobs.onExecutor(jsc, job, j -> {
                UpstreamExperiment.DenseRun run = new UpstreamExperiment(j.config(), data.splits(), Devices.forTask())
                        .trainDense(line -> StageContext.log(NAME + " imp rewind", line), j.step());
                return CheckpointRecord.intermediate(rewindId, denseId, PruningMethod.IMP.key(), "rewind", 0.0,
                        run.rewind(), null, j.step(), (long) j.step() * j.config().upstream.batchSize, 0.0, j.config().name);
            });
            store(ctx, record);
            return record;
        });
        List<Double> targets = config.pruning.sparsities.stream().distinct().sorted().toList();
        List<double[]> plan = ImpPlan.plan(targets, config.pruning.imp.pruneFraction);
        CheckpointRecord previous = dense;
        for (int i = 0; i < targets.size(); i++) {
            String id = ids.prunedId(PruningMethod.IMP, targets.get(i));
            Optional<CheckpointRecord> existing = ctx.checkpoints().get(id);
            if (existing.isPresent()) {
                previous = existing.get();
                continue;
            }
            ImpJob job = new ImpJob(previous, rewind, plan.get(i), config);
            double target = targets.get(i);
            CheckpointRecord record = config.pruning.dataParallel.workers > 1 ? impDataParallel(ctx, id, job, target, data)
                    : TrainingJobs.onExecutor(jsc, job, j -> {
                CheckpointCodec.Decoded start = j.start().decode();
                TrainedModel model = new UpstreamExperiment(j.config(), data.splits(), Devices.forTask()).impRounds(start.weights(),
                        start.mask(), j.rewindWeights(), j.rounds(), line -> StageContext.log(NAME + " imp " + target, line));
                return CheckpointRecord.of(id, j.start().id(), PruningMethod.IMP.key(), "imp", target, model, j.config().name);
            });
            if (previous.method().equals(PruningMethod.IMP.key())) {
                record = record.afterChain(previous.trainSteps(), previous.examplesSeen(), previous.wallSeconds());
            }
            store(ctx, record);
            previous = record;
        }
    }

    /**
     * COLT: rounds of K parallel segment trainings from theta_0 under the shared mask, then the
     * intersection of their pruned masks; a round that would cross a target is bisected to land
     * on it, and the ticket found there is trained on the whole upstream dataset.
     */
    private static void colt(StageContext ctx, CheckpointRecord dense, UpstreamData data) {
        ExperimentConfig config = ctx.config();
        ExperimentConfig.ColtRecipe recipe = config.pruning.colt;
        ExperimentIds ids = ctx.ids();
        JavaSparkContext jsc = ctx.jsc();
        ColtInit init = TrainingJobs.onExecutor(jsc, config, c -> {
            UpstreamExperiment experiment = new UpstreamExperiment(c, data.evaluationSplits(), Devices.forTask());
            return new ColtInit(experiment.initialWeights(), experiment.coltTensors(), data.coltSegmentSizes(c));
        });
        UpstreamExperiment schedules = UpstreamExperiment.forPlanning(config, data.trainExamples());
        long roundSteps = 0;
        for (long size : init.segmentSizes()) {
            roundSteps += schedules.coltSegmentSchedule(size).totalSteps();
        }
        MagnitudePruner pruner = MagnitudePruner.forCriterion(config.pruning.criterion);
        List<Double> targets = new ArrayList<>(config.pruning.sparsities.stream().distinct().sorted().toList());
        Mask shared = Mask.dense(init.theta0(), init.tensors());
        String parentId = dense.id();
        int steps = 0;
        long examples = 0;
        double seconds = 0;
        for (int round = 1; !targets.isEmpty(); round++) {
            if (round > recipe.maxRounds) {
                throw new IllegalStateException("colt: " + recipe.maxRounds + " rounds did not reach sparsities " + targets
                        + " (shared mask at " + shared.sparsity() + "); raise pruning.colt.max_rounds or prune_fraction");
            }
            String roundId = ids.coltRoundId(round);
            Optional<CheckpointRecord> stored = ctx.checkpoints().get(roundId);
            CheckpointRecord roundRecord;
            if (stored.isPresent()) {
                roundRecord = stored.get();
                shared = roundRecord.decode().mask();
            } else {
                long start = System.nanoTime();
                List<ColtJob> jobs = new ArrayList<>();
                for (int k = 0; k < recipe.segments; k++) {
                    jobs.add(new ColtJob(k, init.theta0(), shared, config));
                }
                int r = round;
                List<Weights> trained = config.pruning.dataParallel.workers > 1
                        ? coltSegmentsDataParallel(ctx, jobs, round, data, init.segmentSizes())
                        : TrainingJobs.onExecutors(jsc, jobs, j -> {
                    TaskRegistry.Splits splits = data.splits();
                    return new UpstreamExperiment(j.config(), splits, Devices.forTask()).coltSegment(j.theta0(), j.shared(),
                            coltSegment(splits, j.config(), j.segment()), j.segment(), line -> StageContext.log(NAME + " colt round " + r + " segment " + j.segment(), line));
                });
                Colt.Round next = Colt.round(trained, shared, recipe.pruneFraction, targets.get(0), recipe.tolerance,
                        pruner);
                shared = next.mask();
                steps = Math.toIntExact(steps + roundSteps);
                examples += roundSteps * config.pruning.batchSize;
                seconds += (System.nanoTime() - start) / 1e9;
                roundRecord = CheckpointRecord.intermediate(roundId, parentId, PruningMethod.COLT.key(), "colt_round",
                        targets.get(0), shared.apply(init.theta0()), shared, steps, examples, seconds, config.name);
                StageContext.log(NAME, String.format("colt round %d: each model pruned %.4f of the remaining weights; "
                        + "shared mask sparsity %.4f", round, next.pruneFraction(), shared.sparsity()));
                store(ctx, roundRecord);
            }
            steps = roundRecord.trainSteps();
            examples = roundRecord.examplesSeen();
            seconds = roundRecord.wallSeconds();
            parentId = roundId;
            while (!targets.isEmpty() && shared.sparsity() >= targets.get(0) - recipe.tolerance) {
                double target = targets.remove(0);
                String id = ids.prunedId(PruningMethod.COLT, target);
                if (ctx.checkpoints().get(id).isPresent()) {
                    continue;
                }
                ColtFinalJob job = new ColtFinalJob(init.theta0(), shared, config);
                String landedAt = roundId;
                CheckpointRecord ticket = config.pruning.dataParallel.workers > 1
                        ? coltFinalDataParallel(ctx, id, landedAt, job, target, data)
                        : TrainingJobs.onExecutor(jsc, job, j -> CheckpointRecord.of(id, landedAt,
                        PruningMethod.COLT.key(), "colt_ticket", target,
                        new UpstreamExperiment(j.config(), data.splits(), Devices.forTask()).coltFinal(j.theta0(), j.mask(),
                                line -> StageContext.log(NAME + " colt ticket " + target, line)), j.config().name));
                store(ctx, ticket.afterChain(steps, examples, seconds));
            }
        }
    }
}
