package org.sparsetransfer.core.method;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.sparsetransfer.core.InvalidInputException;
import org.sparsetransfer.core.Synthetic;
import org.sparsetransfer.core.checkpoint.CheckpointCodec;
import org.sparsetransfer.core.config.ConfigLoader;
import org.sparsetransfer.core.config.ExperimentConfig;
import org.sparsetransfer.core.experiment.TrainedModel;
import org.sparsetransfer.core.experiment.UpstreamExperiment;
import org.sparsetransfer.core.experiment.UpstreamSchedules;
import org.sparsetransfer.core.model.Tensor;
import org.sparsetransfer.core.model.Weights;
import org.sparsetransfer.core.prune.Criterion;
import org.sparsetransfer.core.prune.LayerDensity;
import org.sparsetransfer.core.prune.MagnitudePruner;
import org.sparsetransfer.core.prune.Mask;
import org.sparsetransfer.core.prune.MaskUpdater;
import org.sparsetransfer.core.prune.NmSparsity;
import org.sparsetransfer.core.task.TaskRegistry;
import org.sparsetransfer.core.train.TrainingLoop;
import org.sparsetransfer.core.train.TrainingSchedule;

/**
 * AC/DC, RigL and N:M: their schedules and mask updates on fixed weights, N:M's targets, and
 * short real trainings through {@link InProcessPruning} whose masks hold exactly.
 */
class NewMethodsTest {
    private static final int TRAIN_SIZE = 1_000;

    private static ExperimentConfig parse(String yaml) {
        return ConfigLoader.parse(new ByteArrayInputStream(yaml.getBytes(StandardCharsets.UTF_8)), "test.yaml");
    }

    private static AcDcMethod acdc() {
        return (AcDcMethod) PruningMethods.byKey("acdc", "test");
    }

    private static RigLMethod rigl() {
        return (RigLMethod) PruningMethods.byKey("rigl", "test");
    }

    private static NmMethod nm() {
        return (NmMethod) PruningMethods.byKey("nm", "test");
    }

    /** Every step's mask update of {@code schedule}, by step. */
    private static Map<Integer, Double> updates(TrainingSchedule schedule) {
        Map<Integer, Double> out = new TreeMap<>();
        for (int step = 0; step < schedule.totalSteps() + 5; step++) { // past the end too: nothing there
            OptionalDouble to = schedule.pruneBefore(step);
            if (to.isPresent()) {
                out.put(step, to.getAsDouble());
            }
        }
        return out;
    }

    // ---- AC/DC

    @Test
    void acdcCompressesToTheTargetAtEachCompressedPhaseAndLiftsTheMaskAtEachDecompressedOne() {
        ExperimentConfig c = parse("""
                pruning:
                  acdc: {warmup_steps: 7, compressed_steps: 3, decompressed_steps: 4, cycles: 2, final_steps: 5, lr: 0.1}
                """);
        UpstreamSchedules schedules = new UpstreamSchedules(c, TRAIN_SIZE);
        TrainingSchedule phases = acdc().schedule(acdc().recipe(c), schedules, 0.8);
        assertEquals(7 + 2 * (3 + 4) + 5, phases.totalSteps());
        // Warm-up 0..6 dense; compressed 7..9, decompressed 10..13, compressed 14..16, decompressed 17..20; final 21..25.
        assertEquals(Map.of(7, 0.8, 10, 0.0, 14, 0.8, 17, 0.0, 21, 0.8), updates(phases));

        // Cosine decay from lr at the first step to 0 at the last, never rising.
        assertEquals(0.1f, phases.learningRate(0));
        assertEquals(0f, phases.learningRate(phases.totalSteps() - 1), 1e-8f);
        assertEquals(0.05f, phases.learningRate((phases.totalSteps() - 1) / 2), 0.01f, "about half way at the middle");
        for (int step = 1; step < phases.totalSteps(); step++) {
            assertTrue(phases.learningRate(step) <= phases.learningRate(step - 1), "step " + step);
        }

        // Without a warm-up the first compressed phase starts at step 0; without cycles only the final phase is compressed.
        assertEquals(Map.of(0, 0.5, 2, 0.0, 3, 0.5), updates(new AcDcMethod.Phases(0, 2, 1, 1, 4, 0.1f, 0.5)));
        assertEquals(Map.of(6, 0.9), updates(new AcDcMethod.Phases(6, 2, 1, 0, 4, 0.1f, 0.9)));
        assertEquals(10, new AcDcMethod.Phases(6, 2, 1, 0, 4, 0.1f, 0.9).totalSteps());

        // Lengths in epochs are passes over the upstream split at the pruning batch.
        ExperimentConfig epochs = parse("pruning:\n  batch_size: 100\n  acdc: {warmup_epochs: 1, compressed_epochs: 0.5, "
                + "decompressed_epochs: 0.5, cycles: 1, final_epochs: 2}\n");
        TrainingSchedule inEpochs = acdc().schedule(acdc().recipe(epochs), new UpstreamSchedules(epochs, TRAIN_SIZE), 0.8);
        assertEquals(10 + 5 + 5 + 20, inEpochs.totalSteps());
        assertEquals(Map.of(10, 0.8, 15, 0.0, 20, 0.8), updates(inEpochs));
    }

    @Test
    void acdcsUpdaterLiftsTheMaskAtZeroAndOtherwiseKeepsTheLargestWeightsOfAllToTheExactSparsity() {
        Weights weights = MethodInternals.weights(5);
        Set<String> masked = new LinkedHashSet<>(List.of("conv2", "fc"));
        // A mask that pruned the largest weights: a compressed phase after a decompressed one may bring any back.
        Mask current = new MagnitudePruner(MagnitudePruner.Scope.GLOBAL).prune(inverted(weights), Mask.dense(weights, masked), 0.6);
        MaskUpdater alternation = acdc().updater(acdc().recipe(new ExperimentConfig()), new UpstreamSchedules(new ExperimentConfig(), 100));
        assertTrue(alternation instanceof AcDcMethod.Alternation, alternation.describe());
        assertTrue(!alternation.needsGradient());

        Mask lifted = alternation.update(10, 0.0, weights, current, null);
        assertEquals(Mask.dense(weights, masked), lifted, "a decompressed phase trains every weight of the masked tensors");

        for (double target : new double[] {0.3, 0.7, 0.9}) {
            Mask compressed = alternation.update(5, target, weights, current, null);
            assertEquals(masked, compressed.tensorNames());
            assertEquals(Math.round(target * compressed.size()), compressed.prunedCount(), "exactly the target at " + target);
            assertEquals(new MagnitudePruner(MagnitudePruner.Scope.GLOBAL).prune(weights, Mask.dense(weights, masked), target), compressed,
                    "the magnitude top-k of all weights, as if nothing had been pruned before");
            float smallestKept = Float.MAX_VALUE;
            float largestPruned = 0;
            for (String name : masked) {
                boolean[] bits = compressed.bits(name);
                float[] v = weights.get(name).values();
                for (int i = 0; i < bits.length; i++) {
                    if (bits[i]) {
                        smallestKept = Math.min(smallestKept, Math.abs(v[i]));
                    } else {
                        largestPruned = Math.max(largestPruned, Math.abs(v[i]));
                    }
                }
            }
            assertTrue(largestPruned <= smallestKept, largestPruned + " pruned above " + smallestKept + " kept");
        }
        // Layer-wise: each tensor to the target.
        Mask layerwise = new AcDcMethod.Alternation(MagnitudePruner.of(Criterion.LAYERWISE)).update(5, 0.7, weights, current, null);
        for (String name : masked) {
            long pruned = 0;
            for (boolean b : layerwise.bits(name)) {
                pruned += b ? 0 : 1;
            }
            assertEquals(Math.round(0.7 * weights.get(name).size()), pruned, name);
        }
    }

    // ---- RigL

    @Test
    void riglUpdatesTheMaskAtStepZeroAndEveryDeltaTBeforeTheEndStep() {
        ExperimentConfig c = parse("pruning:\n  rigl: {steps: 100, delta_t: 20, end_fraction: 0.75, lr: 0.1}\n");
        TrainingSchedule updates = rigl().schedule(rigl().recipe(c), new UpstreamSchedules(c, TRAIN_SIZE), 0.9);
        assertEquals(100, updates.totalSteps());
        assertEquals(Map.of(0, 0.9, 20, 0.9, 40, 0.9, 60, 0.9), updates(updates), "none from step 75 on");
        assertEquals(0.1f, updates.learningRate(0));
        assertEquals(0f, updates.learningRate(99), 1e-8f);

        // The end step is excluded; the paper's defaults update at 0, 100, ..., 400 of 600 steps.
        ExperimentConfig half = parse("pruning:\n  rigl: {steps: 100, delta_t: 25, end_fraction: 0.5}\n");
        assertEquals(Map.of(0, 0.8, 25, 0.8), updates(rigl().schedule(rigl().recipe(half), new UpstreamSchedules(half, TRAIN_SIZE), 0.8)));
        ExperimentConfig defaults = new ExperimentConfig();
        assertEquals(Map.of(0, 0.8, 100, 0.8, 200, 0.8, 300, 0.8, 400, 0.8),
                updates(rigl().schedule(rigl().recipe(defaults), new UpstreamSchedules(defaults, TRAIN_SIZE), 0.8)));
    }

    @Test
    void riglStartsFromTheDistributionsExactCountsAndEveryUpdateKeepsEachLayersCount() {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        tensors.put("conv", Synthetic.gaussian(1, 16, 8, 3, 3));
        tensors.put("fc", Synthetic.gaussian(2, 10, 64));
        tensors.put("head", Synthetic.gaussian(3, 4, 10)); // not masked
        Weights weights = new Weights(tensors);
        Weights gradient = new Weights(Map.of("conv", Synthetic.gaussian(4, 16, 8, 3, 3), "fc", Synthetic.gaussian(5, 10, 64),
                "head", Synthetic.gaussian(6, 4, 10)));
        Set<String> masked = new LinkedHashSet<>(List.of("conv", "fc"));
        Map<String, long[]> shapes = new LinkedHashMap<>();
        shapes.put("conv", weights.get("conv").shape());
        shapes.put("fc", weights.get("fc").shape());

        for (String distribution : List.of("erk", "uniform")) {
            ExperimentConfig c = parse("pruning:\n  rigl: {steps: 100, delta_t: 10, alpha: 0.3, distribution: " + distribution + "}\n");
            MaskUpdater dropAndGrow = rigl().updater(rigl().recipe(c), new UpstreamSchedules(c, TRAIN_SIZE));
            assertTrue(dropAndGrow.needsGradient());
            Map<String, Long> counts = LayerDensity.keptCounts(shapes, 0.8, distribution.equals("erk")
                    ? LayerDensity.Distribution.ERK : LayerDensity.Distribution.UNIFORM);

            Mask initial = dropAndGrow.update(0, 0.8, weights, Mask.dense(weights, masked), gradient);
            assertEquals(counts, kept(initial), distribution + ": the initial mask has the distribution's counts");
            assertEquals(initial, dropAndGrow.update(0, 0.8, weights, Mask.dense(weights, masked), null), "seeded, and no gradient read");
            assertEquals(Math.round(0.8 * initial.size()), initial.prunedCount());

            Mask mask = initial;
            for (int step = 10; step <= 50; step += 10) { // the drop fraction decays to nothing by the end step
                Weights trained = mask.apply(weights);
                Weights stepGradient = new Weights(Map.of("conv", Synthetic.gaussian(10 + step, 16, 8, 3, 3),
                        "fc", Synthetic.gaussian(11 + step, 10, 64), "head", Synthetic.gaussian(12 + step, 4, 10)));
                Mask next = dropAndGrow.update(step, 0.8, trained, mask, stepGradient);
                assertEquals(counts, kept(next), distribution + " step " + step + ": every layer keeps its count");
                assertNotEquals(mask, next, "step " + step + " drops and grows");
                mask = next;
            }
            assertEquals(mask, dropAndGrow.update(75, 0.8, mask.apply(weights), mask, gradient), "no drop at the end step");
            Mask sparse = mask;
            assertThrows(IllegalStateException.class, () -> dropAndGrow.update(10, 0.8, weights, sparse, null),
                    "an update after the first needs the dense gradient");
        }
        // Another config seed, another random start.
        ExperimentConfig seeded = parse("seed: 1\n");
        MaskUpdater other = rigl().updater(rigl().recipe(seeded), new UpstreamSchedules(seeded, TRAIN_SIZE));
        MaskUpdater base = rigl().updater(rigl().recipe(new ExperimentConfig()), new UpstreamSchedules(new ExperimentConfig(), TRAIN_SIZE));
        assertNotEquals(base.update(0, 0.8, weights, Mask.dense(weights, masked), null),
                other.update(0, 0.8, weights, Mask.dense(weights, masked), null));
        assertNotEquals(base.describe(), other.describe(), "a training state's key tells the two apart");
    }

    private static Map<String, Long> kept(Mask mask) {
        Map<String, Long> out = new LinkedHashMap<>();
        for (String name : mask.tensorNames()) {
            long n = 0;
            for (boolean b : mask.bits(name)) {
                n += b ? 1 : 0;
            }
            out.put(name, n);
        }
        return out;
    }

    // ---- N:M

    @Test
    void nmRefusesATargetThatIsNoMultipleOfOneOverItsGroupSize() {
        String message = assertThrows(InvalidInputException.class, () -> parse("pruning:\n  nm:\n    sparsities: [0.6]\n")).getMessage();
        assertEquals("N:M sparsity 0.6 for pruning.nm.sparsities[0] in test.yaml does not prune a whole number of weights in every "
                + "group of 4; allowed sparsities are 0.25, 0.5, 0.75 for M = 4", message);
        String second = assertThrows(InvalidInputException.class,
                () -> parse("pruning:\n  nm:\n    group_size: 8\n    sparsities: [0.5, 0.6]\n")).getMessage();
        assertTrue(second.contains("pruning.nm.sparsities[1]") && second.contains("group of 8")
                && second.contains("0.125, 0.25, 0.375, 0.5, 0.625, 0.75, 0.875 for M = 8"), second);
        assertTrue(assertThrows(InvalidInputException.class, () -> parse("pruning:\n  nm:\n    sparsities: [1.0]\n")).getMessage()
                .contains("N:M sparsity 1.0"));
        // Its own targets, whatever pruning.sparsities says (0.8 is no multiple of 1/4).
        ExperimentConfig ok = parse("pruning:\n  sparsities: [0.8, 0.9]\n  nm:\n    group_size: 8\n    sparsities: [0.875, 0.625]\n");
        assertEquals(List.of(0.625, 0.875), nm().targets(ok));
        assertEquals(List.of(0.5, 0.75), nm().targets(new ExperimentConfig()));
        MaskUpdater groups = nm().updater(nm().recipe(ok), new UpstreamSchedules(ok, TRAIN_SIZE));
        Weights weights = MethodInternals.weights(9);
        Mask mask = groups.update(0, 0.625, weights, Mask.dense(weights, weights.tensors().keySet()), null);
        assertTrue(NmSparsity.holds(mask, weights, 0.625, 8));
        assertEquals(List.of("conv1 (input size 27 is not a multiple of 8)"), NmMethod.excluded(weights, mask, 8));
    }

    // ---- Short real trainings

    /** 400 generated training images of 9 classes (a bright square's place), 100 each for validation and test. */
    private static final TaskRegistry.Splits SPLITS = new TaskRegistry.Splits(Synthetic.squares("up", 400, 9, 1, 0),
            Synthetic.squares("up", 100, 9, 2, 0), Synthetic.squares("up", 100, 9, 3, 0));

    private static ExperimentConfig trainingConfig(String extra) {
        return parse("""
                upstream: {epochs: 2, batch_size: 32}
                pruning:
                  batch_size: 32
                  sparsities: [0.8]
                  acdc: {warmup_steps: 20, compressed_steps: 10, decompressed_steps: 10, cycles: 2, final_steps: 20}
                  rigl: {steps: 80, delta_t: 20}
                  nm: {sparsities: [0.5], steps: 30}
                """ + extra);
    }

    /** The dense model of {@code config} on the generated splits, and a pruning run from it over {@code workers} workers. */
    private static InProcessPruning pruning(ExperimentConfig config, int workers) throws Exception {
        UpstreamExperiment experiment = new UpstreamExperiment(config, SPLITS, Device.cpu());
        TrainedModel dense = experiment.trainDense(TrainingLoop.Progress.SILENT);
        return new InProcessPruning(config, SPLITS, dense, experiment.initialWeights(), workers, TrainingLoop.Progress.SILENT);
    }

    /**
     * The one checkpoint {@code method} makes, checked: stored under its id, its mask exact on its weights, well above chance
     * (1/9; the dense model gets the generated task right).
     */
    private static InProcessPruning.Checkpoint checkpoint(InProcessPruning run, PruningMethod method, double target) throws Exception {
        Map<Double, InProcessPruning.Checkpoint> made = run.run(method);
        assertEquals(List.of(target), new ArrayList<>(made.keySet()));
        InProcessPruning.Checkpoint c = made.get(target);
        assertEquals(run.ids().prunedId(method, target), c.id());
        assertEquals(method.key(), c.method());
        assertEquals(run.dense().id(), c.parentId(), "a single run's parent is the dense checkpoint");
        assertEquals(c.mask(), c.model().mask());
        assertTrue(c.mask().holds(c.weights()), method.key() + ": every pruned weight is exactly zero");
        assertEquals(run.denseMask().tensorNames(), c.mask().tensorNames(), "the prunable tensors, nothing more");
        assertTrue(c.model().test().top1() > 0.5, method.key() + " learns: test top-1 " + c.model().test().top1());
        return c;
    }

    @Test
    void theOlderMethodsMakeTheSameCheckpointsBitForBitWithOrWithoutTheNewOnesInTheConfig() throws Exception {
        String older = "  methods: [dense, oneshot, gmp, imp, colt]\n";
        // The newer methods listed, and their sections away from the defaults: neither may touch the older methods' trainings.
        String newer = "  methods: [dense, acdc, oneshot, rigl, gmp, nm, imp, colt]\n";
        ExperimentConfig without = trainingConfig("""
                  oneshot: {steps: 20}
                  gmp: {pruning_steps: 2, interval: 5, recovery_steps: 10}
                  imp: {rewind_step: 0, prune_fraction: 0.6, retrain_steps: 10}
                  colt: {prune_fraction: 0.6, train_steps: 10, final_steps: 10}
                """.replace("  oneshot", older + "  oneshot"));
        ExperimentConfig with = trainingConfig("""
                  oneshot: {steps: 20}
                  gmp: {pruning_steps: 2, interval: 5, recovery_steps: 10}
                  imp: {rewind_step: 0, prune_fraction: 0.6, retrain_steps: 10}
                  colt: {prune_fraction: 0.6, train_steps: 10, final_steps: 10}
                """.replace("  oneshot", newer + "  oneshot"));
        InProcessPruning a = pruning(without, 1);
        InProcessPruning b = pruning(with, 1);
        for (String key : List.of("oneshot", "gmp", "imp", "colt")) {
            PruningMethod method = PruningMethods.byKey(key, "test");
            InProcessPruning.Checkpoint x = a.run(method).get(0.8);
            InProcessPruning.Checkpoint y = b.run(method).get(0.8);
            assertEquals(x.id(), y.id(), key + "'s id");
            assertEquals(CheckpointCodec.checksum(CheckpointCodec.encode(x.weights(), x.mask())),
                    CheckpointCodec.checksum(CheckpointCodec.encode(y.weights(), y.mask())), key + "'s checkpoint, bit for bit");
        }
    }

    private static void assertSparsity(double target, Mask mask, String what) {
        assertEquals(target, mask.sparsity(), 1.0 / mask.size(), what);
    }

    @Test
    void acdcTrainsFromTheInitializationToAnExactMaskAtTheTarget() throws Exception {
        ExperimentConfig config = trainingConfig("");
        InProcessPruning run = pruning(config, 1);
        InProcessPruning.Checkpoint c = checkpoint(run, acdc(), 0.8);
        assertSparsity(0.8, c.mask(), "acdc");
        assertEquals(Math.round(0.8 * c.mask().size()), c.mask().prunedCount());
        assertEquals(20 + 2 * 20 + 20, c.model().trainSteps());
        assertEquals(c.mask(), new MagnitudePruner(MagnitudePruner.Scope.GLOBAL).prune(c.weights(), Mask.dense(c.weights(),
                c.mask().tensorNames()), 0.8), "the final phase's mask is its weights' top-k (none of the kept ones trained to zero)");
    }

    @Test
    void riglTrainsSparseFromTheFirstStepAndKeepsEveryLayersCount() throws Exception {
        ExperimentConfig config = trainingConfig("");
        InProcessPruning run = pruning(config, 1);
        InProcessPruning.Checkpoint c = checkpoint(run, rigl(), 0.8);
        assertSparsity(0.8, c.mask(), "rigl");
        assertEquals(erkCounts(c.weights(), c.mask(), 0.8), kept(c.mask()), "each layer's ERK count, through every update");
        assertEquals(80, c.model().trainSteps());
        // The mask moved: it is not the random start any more.
        Mask start = rigl().updater(rigl().recipe(config), run.schedules()).update(0, 0.8, run.initialWeights(), run.denseMask(), null);
        assertEquals(kept(start), kept(c.mask()));
        assertNotEquals(start, c.mask(), "drop and grow changed connections");
    }

    @Test
    void riglOnTwoWorkersKeepsTheMaskExactAndEachLayersCount() throws Exception {
        ExperimentConfig config = trainingConfig("  data_parallel: {workers: 2, local_steps: 10}\n");
        InProcessPruning run = pruning(config, 2);
        InProcessPruning.Checkpoint c = checkpoint(run, rigl(), 0.8);
        assertSparsity(0.8, c.mask(), "rigl on two workers");
        assertEquals(erkCounts(c.weights(), c.mask(), 0.8), kept(c.mask()));
        assertEquals(80, c.model().trainSteps());
    }

    @Test
    void nmPrunesTheDenseModelToTheGroupPatternAndFineTunesWithItFixed() throws Exception {
        ExperimentConfig config = trainingConfig("");
        InProcessPruning run = pruning(config, 1);
        InProcessPruning.Checkpoint c = checkpoint(run, nm(), 0.5);
        assertTrue(NmSparsity.holds(c.mask(), c.weights(), 0.5, 4), "every group of 4 keeps exactly 2");
        assertEquals(List.of(), NmMethod.excluded(c.weights(), c.mask(), 4), "small_cnn's prunable tensors all take 2:4");
        assertEquals(0.5, c.mask().sparsity(), 0.0);
        assertEquals(30, c.model().trainSteps());
    }

    private static Map<String, Long> erkCounts(Weights weights, Mask mask, double target) {
        Map<String, long[]> shapes = new LinkedHashMap<>();
        for (String name : mask.tensorNames()) {
            shapes.put(name, weights.get(name).shape());
        }
        return LayerDensity.keptCounts(shapes, target, LayerDensity.Distribution.ERK);
    }

    /** The weights with magnitudes reversed in rank: the largest become the smallest. */
    private static Weights inverted(Weights weights) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        weights.tensors().forEach((name, t) -> {
            float[] v = t.values().clone();
            for (int i = 0; i < v.length; i++) {
                v[i] = 1f / (1e-3f + Math.abs(v[i]));
            }
            out.put(name, new Tensor(t.shape(), v));
        });
        return new Weights(out);
    }
}
