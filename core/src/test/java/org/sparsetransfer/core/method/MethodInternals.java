package org.sparsetransfer.core.method;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import org.sparsetransfer.core.Synthetic;
import org.sparsetransfer.core.config.ExperimentConfig;
import org.sparsetransfer.core.config.ExperimentIds;
import org.sparsetransfer.core.data.ImageSet;
import org.sparsetransfer.core.experiment.UpstreamSchedules;
import org.sparsetransfer.core.model.Tensor;
import org.sparsetransfer.core.model.Weights;
import org.sparsetransfer.core.prune.Colt;
import org.sparsetransfer.core.prune.ImpPlan;
import org.sparsetransfer.core.prune.MagnitudePruner;
import org.sparsetransfer.core.prune.Mask;
import org.sparsetransfer.core.prune.MaskUpdater;
import org.sparsetransfer.core.prune.SegmentSplit;
import org.sparsetransfer.core.train.BatchOrder;
import org.sparsetransfer.core.train.DataParallelPlan;
import org.sparsetransfer.core.train.TrainingLoop;
import org.sparsetransfer.core.train.TrainingSchedule;

/**
 * The methods' package-private parts that tests of other packages read: the schedules, seeds,
 * mask updaters and ids a method derives from a config (SemanticsTest's fingerprints of each
 * pruning stage, PruningLengthTest's lengths, the COLT round and IMP rewind ids). Recipes stay
 * in their methods; tests set them through YAML, as a config does.
 */
public final class MethodInternals {
    private MethodInternals() {}

    /** The registered method {@code key}. */
    public static PruningMethod method(String key) {
        return PruningMethods.byKey(key, "a test");
    }

    /** The training that makes {@code key}'s checkpoint at {@code target} (a single-run method: oneshot, gmp, gmp_star, acdc, rigl, nm). */
    public static TrainingSchedule schedule(ExperimentConfig config, String key, UpstreamSchedules schedules, double target) {
        return schedule(single(key), config, schedules, target);
    }

    private static <R extends MethodRecipe> TrainingSchedule schedule(SingleRunMethod<R> m, ExperimentConfig config,
            UpstreamSchedules schedules, double target) {
        return m.schedule(m.recipe(config), schedules, target);
    }

    /** IMP's retraining after each round. */
    public static TrainingSchedule impRetrainSchedule(ExperimentConfig config, UpstreamSchedules schedules) {
        ImpMethod imp = (ImpMethod) method("imp");
        return ImpMethod.retrainSchedule(imp.recipe(config), schedules);
    }

    /** The dense run's step IMP rewinds to (its weights are kept there when the mode rewinds weights). */
    public static int impRewindStep(ExperimentConfig config, UpstreamSchedules schedules) {
        ImpMethod imp = (ImpMethod) method("imp");
        return schedules.denseStep(imp.recipe(config).rewindPoint());
    }

    /** A COLT segment model's training per round on a segment of {@code segmentSize} examples. */
    public static TrainingSchedule coltSegmentSchedule(ExperimentConfig config, long segmentSize) {
        ColtMethod colt = (ColtMethod) method("colt");
        return ColtMethod.segmentSchedule(colt.recipe(config), segmentSize, config.pruning.batchSize);
    }

    /** The COLT ticket's training on the whole upstream split. */
    public static TrainingSchedule coltFinalSchedule(ExperimentConfig config, UpstreamSchedules schedules) {
        ColtMethod colt = (ColtMethod) method("colt");
        return ColtMethod.finalSchedule(colt.recipe(config), schedules);
    }

    /** COLT's shared mask after round {@code round} (1-based). */
    public static String coltRoundId(ExperimentIds ids, ExperimentConfig config, int round) {
        return ((ColtMethod) method("colt")).roundId(ids, config, round);
    }

    /** IMP's rewind point's id (weight_rewind; empty otherwise), as the upstream stage keeps it. */
    public static String impRewindId(ExperimentIds ids, ExperimentConfig config, long trainSize) {
        return method("imp").keepsFromDense(ids, new UpstreamSchedules(config, trainSize)).orElseThrow().id();
    }

    /** Where a fingerprint's values go (SemanticsTest's digest). */
    public interface Sink {
        Sink add(String label, Object value);
    }

    /**
     * The settings a pruning run of method {@code key} to {@code sparsity} trains with, from the
     * ones the method derives: {@link #CURRENT} keeps them; a test of an earlier version puts that
     * version's seed in.
     */
    @FunctionalInterface
    public interface Seeds {
        TrainingLoop.Settings of(String key, double sparsity, TrainingLoop.Settings settings);
    }

    /** The settings as the methods derive them. */
    public static final Seeds CURRENT = (key, sparsity, settings) -> settings;

    /**
     * What decides a pruning method's output, for its fingerprint: schedules, seeds, batch
     * orders, data-parallel rounds and the masks its updater (or rounds) choose on fixed weights,
     * for every target of {@code demo}, through the code the method runs.
     */
    public static void trace(Sink t, PruningMethod method, ExperimentConfig demo, Seeds seeds) {
        UpstreamSchedules schedules = new UpstreamSchedules(demo, demo.data.upstreamTrain);
        List<Double> targets = method.targets(demo);
        Weights weights = weights(demo.seed);
        Mask dense = Mask.dense(weights, weights.tensors().keySet());
        MagnitudePruner pruner = MagnitudePruner.of(demo.pruning.criterion);
        if (method instanceof ImpMethod imp) {
            ImpMethod.Recipe recipe = imp.recipe(demo);
            TrainingSchedule retrain = ImpMethod.retrainSchedule(recipe, schedules);
            t.add("rewinds", recipe.rewindsWeights()).add("retrain", retrain);
            List<double[]> rounds = ImpPlan.plan(targets, recipe.pruneFraction);
            Mask mask = dense;
            for (int i = 0; i < targets.size(); i++) {
                double[] chain = rounds.get(i);
                // The rounds to a target train with the settings of their last sparsity, the target (ImpMethod.rounds).
                TrainingLoop.Settings settings = seeds.of("imp", targets.get(i), schedules.pruneSettings("imp", chain[chain.length - 1]));
                t.add("rounds", chain).add("settings", settings).add("order", batches(demo.data.upstreamTrain, settings));
                for (double s : chain) {
                    mask = pruner.prune(weights, mask, s);
                    t.add("mask", mask);
                }
            }
            dataParallel(t, retrain, seeds.of("imp", targets.get(0), schedules.pruneSettings("imp", targets.get(0))), -1);
        } else if (method instanceof ColtMethod colt) {
            ColtMethod.Recipe recipe = colt.recipe(demo);
            ImageSet train = Synthetic.squares("colt", 120, 9, demo.seed, 0);
            for (SegmentSplit split : List.of(SegmentSplit.CLASSES, SegmentSplit.RANDOM)) {
                for (org.sparsetransfer.core.data.ImageSource segment : Colt.segments(train, recipe.segments,
                        split == SegmentSplit.CLASSES, demo.data.splitSeed)) {
                    t.add("segment", segment);
                }
            }
            long segmentSize = demo.data.upstreamTrain / recipe.segments;
            TrainingSchedule segmentSchedule = ColtMethod.segmentSchedule(recipe, segmentSize, demo.pruning.batchSize);
            t.add("segment schedule", segmentSchedule).add("final schedule", ColtMethod.finalSchedule(recipe, schedules));
            List<Weights> models = new ArrayList<>();
            for (int k = 0; k < recipe.segments; k++) {
                t.add("segment settings", ColtMethod.segmentSettings(demo, k));
                models.add(weights(demo.seed * 31 + k));
            }
            Colt.Round round = Colt.round(models, dense, recipe.pruneFraction, targets.get(0), recipe.tolerance, pruner);
            t.add("round", round.pruneFraction()).add("mask", round.mask());
            Colt.Round landing = Colt.round(models, round.mask(), 0.9, targets.get(0) + 0.05, recipe.tolerance, pruner);
            t.add("landing", landing.pruneFraction()).add("mask", landing.mask());
            for (double s : targets) {
                t.add("final settings", seeds.of("colt", s, schedules.pruneSettings("colt", s)));
            }
            dataParallel(t, segmentSchedule, ColtMethod.segmentSettings(demo, 0), -1);
        } else if (method instanceof SingleRunMethod<?> single) {
            traceSingle(t, single, demo, schedules, targets, weights, dense, seeds);
        } else {
            throw new AssertionError("no fingerprint trace for " + method.key() + "; add one to " + MethodInternals.class.getName());
        }
    }

    private static <R extends MethodRecipe> void traceSingle(Sink t, SingleRunMethod<R> m, ExperimentConfig demo,
            UpstreamSchedules schedules, List<Double> targets, Weights weights, Mask dense, Seeds seeds) {
        R recipe = m.recipe(demo);
        MaskUpdater updater = m.updater(recipe, schedules);
        if (m.start() != SingleRunMethod.Start.DENSE_MODEL) {
            t.add("start", m.start()); // the dense-model start, implicit since version 1 of the first methods, adds nothing
        }
        // A fixed dense gradient for updaters that read one (RigL's regrowth).
        Weights gradient = updater.needsGradient() ? weights(demo.seed + 1000) : null;
        for (double s : targets) {
            TrainingSchedule schedule = m.schedule(recipe, schedules, s);
            TrainingLoop.Settings settings = seeds.of(m.key(), s, m.settings(recipe, schedules, s));
            t.add("schedule", schedule).add("settings", settings).add("distills", m.teacher(recipe, weights) != null)
                    .add("order", batches(demo.data.upstreamTrain, settings));
            Mask mask = dense;
            for (int step = 0; step < schedule.totalSteps(); step++) {
                OptionalDouble to = schedule.pruneBefore(step);
                if (to.isPresent()) {
                    mask = updater.update(step, to.getAsDouble(), weights, mask, gradient);
                    t.add("mask", mask);
                }
            }
            dataParallel(t, schedule, settings, -1);
        }
    }

    @SuppressWarnings("unchecked")
    private static SingleRunMethod<MethodRecipe> single(String key) {
        PruningMethod m = method(key);
        if (!(m instanceof SingleRunMethod<?>)) {
            throw new IllegalArgumentException(key + " is not a single-run method");
        }
        return (SingleRunMethod<MethodRecipe>) m;
    }

    /** A schedule's data-parallel plan over 3 workers of 7 local steps, with the worker shards, seeds and batch. */
    public static void dataParallel(Sink t, TrainingSchedule schedule, TrainingLoop.Settings settings, int boundary) {
        DataParallelPlan plan = DataParallelPlan.of(schedule, 3, 7, boundary);
        for (DataParallelPlan.Round r : plan.rounds()) {
            t.add("round", r.index() + " " + r.firstStep() + " " + r.steps() + " " + r.pruneBefore());
        }
        for (int w = 0; w < 3; w++) {
            t.add("shard", DataParallelPlan.shard(101, 3, w)).add("worker seed", DataParallelPlan.workerSeed(settings.seed(), w));
        }
        t.add("worker batch", DataParallelPlan.workerBatch(settings.batchSize(), 3));
    }

    /** The batches of two passes over {@code size} examples. */
    public static List<long[]> batches(int size, TrainingLoop.Settings settings) {
        int batch = Math.min(settings.batchSize(), size);
        BatchOrder order = new BatchOrder(size, batch, settings.seed());
        List<long[]> batches = new ArrayList<>();
        for (int i = 0; i < 2 * (size / batch) + 1; i++) {
            batches.add(order.next());
            batches.add(new long[] {order.pass()});
        }
        return batches;
    }

    /** Fixed generated weights: two conv-like and one linear-like tensor, with ties. */
    public static Weights weights(long seed) {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        tensors.put("conv1", Synthetic.gaussian(seed, 8, 3, 3, 3));
        tensors.put("conv2", Synthetic.gaussian(seed + 1, 16, 8, 3, 3));
        Tensor fc = Synthetic.gaussian(seed + 2, 10, 64);
        float[] v = fc.values();
        for (int i = 0; i < v.length; i += 9) {
            v[i] = 0.5f; // ties
        }
        tensors.put("fc", fc);
        return new Weights(tensors);
    }
}
