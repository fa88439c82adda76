package org.sparsetransfer.jobs.stages;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.apache.spark.api.java.JavaSparkContext;
import org.sparsetransfer.core.InvalidInputException;
import org.sparsetransfer.core.checkpoint.CheckpointCodec;
import org.sparsetransfer.core.config.ExperimentConfig;
import org.sparsetransfer.core.config.ExperimentIds;
import org.sparsetransfer.core.experiment.TrainedModel;
import org.sparsetransfer.core.experiment.UpstreamExperiment;
import org.sparsetransfer.core.model.Weights;
import org.sparsetransfer.core.prune.Colt;
import org.sparsetransfer.core.prune.ImpPlan;
import org.sparsetransfer.core.prune.MagnitudePruner;
import org.sparsetransfer.core.prune.Mask;
import org.sparsetransfer.core.prune.PruningMethod;
import org.sparsetransfer.core.train.LocalSgd;

/**
 * Runs every pruning method of the config from the dense checkpoint, storing each checkpoint as
 * it finishes; existing checkpoints are skipped. Every training is core's algorithm run as Spark
 * tasks by {@link DataParallelTraining} over pruning.data_parallel.workers workers (one by
 * default): the same orchestration whatever the number of workers. One-shot, GMP and GMP* are one
 * training per target, all targets at once; IMP is one chain through the targets (each target's
 * rounds resuming from the previous target's checkpoint); COLT is a chain of rounds, each round's
 * K segment trainings running at once and its shared mask stored as a checkpoint. Trainings are
 * scored on the upstream splits as Spark tasks too ({@link SplitEvaluation}).
 */
public final class PruneStage {
    public static final String NAME = "prune";

    /**
     * What the model to prune is made of, computed on an executor (where the engine and the data
     * are) from {@code weights} (the dense model's, or COLT's theta_0; null when not needed).
     */
    public record ModelJob(ExperimentConfig config, UpstreamData data, Weights weights) implements Serializable {}

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
        ctx.trainingStates().clearFinished(scopes -> ctx.checkpoints().existing(scopes));
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
        Weights denseWeights = dense.decode().weights();
        // The mask every pruning starts from: the model's prunable tensors, nothing pruned.
        Mask denseMask = TrainingJobs.onExecutor(ctx.jsc(), new ModelJob(ctx.config(), data, denseWeights), j -> UpstreamExperiment
                .forModel(j.config(), j.data().trainIndex().numClasses(), Devices.forTask()).denseMask(j.weights()));
        List<TrainingJobs.Described> units = new ArrayList<>();
        for (PruningMethod method : methods) {
            List<Double> missing = targets.stream().filter(s -> !done.contains(ids.prunedId(method, s))).toList();
            if (missing.isEmpty()) {
                continue;
            }
            switch (method) {
                case IMP -> units.add(new TrainingJobs.Described(() -> imp(ctx, dense, denseMask, data), "imp chain to " + missing));
                case COLT -> units.add(new TrainingJobs.Described(() -> colt(ctx, dense, data), "colt rounds to " + missing));
                case ONESHOT, GMP, GMP_STAR -> missing.forEach(s -> units.add(new TrainingJobs.Described(
                        () -> store(ctx, single(ctx, method, s, dense, denseWeights, denseMask, data)),
                        String.format("%s to sparsity %.2f", method.key(), s))));
                case DENSE -> throw new IllegalStateException("dense is the upstream checkpoint, not a pruning method");
            }
        }
        TrainingJobs.run(ctx.jsc(), NAME, units);
    }

    /**
     * Trainings of this stage on {@code rows}, over pruning.data_parallel.workers Spark tasks per
     * round (one by default), saving their states under the checkpoint {@code makes}.
     */
    private static LocalSgd.Trainer trainer(StageContext ctx, String tag, UpstreamData.TrainingRows rows, String makes) {
        return DataParallelTraining.trainer(ctx.jsc(), tag, ctx.config(), ctx.config().pruning.dataParallel, rows,
                ctx.statePolicy(makes));
    }

    private static UpstreamExperiment schedules(ExperimentConfig config, UpstreamData data) {
        return UpstreamExperiment.forPlanning(config, data.trainExamples());
    }

    /** Stores a checkpoint, then deletes the training states that made it. */
    private static void store(StageContext ctx, CheckpointRecord record) {
        TrainingJobs.persist(() -> ctx.checkpoints().write(List.of(record)));
        ctx.trainingStates().clear(record.id());
        StageContext.log(NAME, Double.isNaN(record.upstreamTop1())
                ? String.format("stored %s: sparsity %.4f", record.id(), record.actualSparsity())
                : String.format("stored %s: sparsity %.4f, upstream test top-1 %.2f%%, %d steps",
                        record.id(), record.actualSparsity(), record.upstreamTop1(), record.trainSteps()));
    }

    /** One-shot, GMP or GMP* from the dense checkpoint to {@code sparsity}, scored on the upstream splits. */
    private static CheckpointRecord single(StageContext ctx, PruningMethod method, double sparsity, CheckpointRecord dense,
            Weights denseWeights, Mask denseMask, UpstreamData data) throws Exception {
        ExperimentConfig config = ctx.config();
        String tag = NAME + " " + method.key() + " " + sparsity;
        String id = ctx.ids().prunedId(method, sparsity);
        LocalSgd.Result result = schedules(config, data).prune(method, sparsity, denseWeights, denseMask,
                trainer(ctx, tag, UpstreamData.TrainingRows.wholeSplit(data), id));
        TrainedModel pruned = DataParallelTraining.score(ctx.jsc(), tag, config, data, result);
        return CheckpointRecord.of(id, dense.id(), method.key(), NAME, sparsity, pruned, config.name);
    }

    /**
     * IMP: the rewind point (only for weight_rewind, the mode that restarts from it), then one task
     * per target, each continuing from the previous checkpoint.
     */
    private static void imp(StageContext ctx, CheckpointRecord dense, Mask denseMask, UpstreamData data) throws Exception {
        ExperimentConfig config = ctx.config();
        ExperimentIds ids = ctx.ids();
        UpstreamExperiment schedules = schedules(config, data);
        String rewindId = ids.rewindId();
        CheckpointRecord rewind = null;
        if (config.pruning.imp.rewindsWeights()) {
            Optional<CheckpointRecord> stored = ctx.checkpoints().get(rewindId);
            rewind = stored.isPresent() ? stored.get() : storeRewind(ctx, dense, data, rewindId);
        }
        Weights rewindWeights = rewind == null ? null : rewind.decode().weights();
        List<Double> targets = config.pruning.sparsities.stream().distinct().sorted().toList();
        List<double[]> plan = ImpPlan.plan(targets, config.pruning.imp.pruneFraction);
        CheckpointRecord previous = dense;
        for (int i = 0; i < targets.size(); i++) {
            double target = targets.get(i);
            String id = ids.prunedId(PruningMethod.IMP, target);
            Optional<CheckpointRecord> existing = ctx.checkpoints().get(id);
            if (existing.isPresent()) {
                previous = existing.get();
                continue;
            }
            String tag = NAME + " imp " + target;
            CheckpointCodec.Decoded start = previous.decode();
            LocalSgd.Result result = schedules.impRounds(start.weights(), start.mask() != null ? start.mask() : denseMask, rewindWeights,
                    plan.get(i), trainer(ctx, tag, UpstreamData.TrainingRows.wholeSplit(data), id), line -> StageContext.log(tag, line));
            TrainedModel model = DataParallelTraining.score(ctx.jsc(), tag, config, data, result);
            CheckpointRecord record = CheckpointRecord.of(id, previous.id(), PruningMethod.IMP.key(), "imp", target, model, config.name);
            if (previous.method().equals(PruningMethod.IMP.key())) {
                record = record.afterChain(previous.trainSteps(), previous.examplesSeen(), previous.wallSeconds());
            }
            store(ctx, record);
            previous = record;
        }
    }

    /**
     * The rewind point when the dense checkpoint was made without it (IMP added to the config
     * later): the dense run's first rewind-step steps, from the same initialization, again.
     */
    private static CheckpointRecord storeRewind(StageContext ctx, CheckpointRecord dense, UpstreamData data, String rewindId)
            throws Exception {
        ExperimentConfig config = ctx.config();
        UpstreamExperiment upstream = schedules(config, data);
        int rewindStep = upstream.impRewindStep();
        StageContext.log(NAME, "imp: training the dense model's first " + rewindStep + " steps again to keep its weights there");
        Weights init = DataParallelTraining.initialWeights(ctx.jsc(), config, data);
        Weights weights = upstream.denseRewind(DataParallelTraining.trainer(ctx.jsc(), NAME + " imp rewind", config,
                config.upstream.dataParallel, UpstreamData.TrainingRows.wholeSplit(data), ctx.statePolicy(rewindId)), init, rewindStep);
        CheckpointRecord record = CheckpointRecord.intermediate(rewindId, dense.id(), PruningMethod.IMP.key(), "rewind", 0.0, weights,
                null, rewindStep, (long) rewindStep * config.upstream.batchSize, 0.0, config.name);
        store(ctx, record);
        return record;
    }

    /** Each COLT segment model's start from theta_0, one model per task result. */
    private static List<Weights> coltSegmentStarts(JavaSparkContext jsc, ExperimentConfig config, UpstreamData data, Weights theta0) {
        List<Weights> starts = new ArrayList<>();
        for (int k = 0; k < config.pruning.colt.segments; k++) {
            int segment = k;
            starts.add(TrainingJobs.onExecutor(jsc, new ModelJob(config, data, theta0), j -> {
                ExperimentConfig.ColtRecipe colt = j.config().pruning.colt;
                int classes = j.data().trainIndex().numClasses();
                return UpstreamExperiment.forModel(j.config(), classes, Devices.forTask()).coltSegmentStart(j.weights(),
                        Colt.segmentClasses(classes, colt.segments, colt.split.equals("classes"), segment), segment);
            }));
        }
        return starts;
    }

    /**
     * COLT: rounds of K parallel segment trainings from theta_0 under the shared mask, then the
     * intersection of their pruned masks; a round that would cross a target is bisected to land
     * on it, and the ticket found there is trained on the whole upstream dataset.
     */
    private static void colt(StageContext ctx, CheckpointRecord dense, UpstreamData data) throws Exception {
        ExperimentConfig config = ctx.config();
        ExperimentConfig.ColtRecipe recipe = config.pruning.colt;
        ExperimentIds ids = ctx.ids();
        JavaSparkContext jsc = ctx.jsc();
        ColtInit init = TrainingJobs.onExecutor(jsc, new ModelJob(config, data, null), j -> {
            UpstreamExperiment experiment = UpstreamExperiment.forModel(j.config(), j.data().trainIndex().numClasses(), Devices.forTask());
            return new ColtInit(experiment.initialWeights(), experiment.coltTensors(), j.data().coltSegmentSizes(j.config()));
        });
        // Each segment model's start (theta_0's backbone, the segment's own seeded head), one model per task result;
        // made when the first round that is not stored trains.
        List<Weights> segmentStarts = new ArrayList<>();
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
                if (segmentStarts.isEmpty()) {
                    segmentStarts.addAll(coltSegmentStarts(jsc, config, data, init.theta0()));
                }
                Weights[] trained = new Weights[recipe.segments];
                List<TrainingJobs.Described> segments = new ArrayList<>();
                Mask sharedMask = shared;
                for (int k = 0; k < recipe.segments; k++) {
                    int segment = k;
                    String tag = NAME + " colt round " + round + " segment " + k;
                    segments.add(new TrainingJobs.Described(() -> trained[segment] = schedules.coltSegment(segmentStarts.get(segment),
                            sharedMask, init.segmentSizes()[segment], segment,
                            trainer(ctx, tag, UpstreamData.TrainingRows.coltSegment(data, config, segment), roundId)), tag));
                }
                TrainingJobs.run(jsc, NAME + " colt round " + round, segments);
                Colt.Round next = Colt.round(List.of(trained), shared, recipe.pruneFraction, targets.get(0), recipe.tolerance,
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
                String tag = NAME + " colt ticket " + target;
                LocalSgd.Result result = schedules.coltFinal(init.theta0(), shared, trainer(ctx, tag, UpstreamData.TrainingRows.wholeSplit(data),
                        id));
                CheckpointRecord ticket = CheckpointRecord.of(id, roundId, PruningMethod.COLT.key(), "colt_ticket", target,
                        DataParallelTraining.score(jsc, tag, config, data, result), config.name);
                store(ctx, ticket.afterChain(steps, examples, seconds));
            }
        }
    }
}
