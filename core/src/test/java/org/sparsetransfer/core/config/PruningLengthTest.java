package org.sparsetransfer.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.sparsetransfer.core.Synthetic;
import org.sparsetransfer.core.experiment.TrainedModel;
import org.sparsetransfer.core.experiment.UpstreamExperiment;
import org.sparsetransfer.core.experiment.UpstreamSchedules;
import org.sparsetransfer.core.method.InProcessPruning;
import org.sparsetransfer.core.method.MethodInternals;
import org.sparsetransfer.core.method.PruningMethod;
import org.sparsetransfer.core.prune.GmpSchedule;
import org.sparsetransfer.core.task.TaskRegistry;
import org.sparsetransfer.core.train.TrainingLoop;
import org.sparsetransfer.core.train.TrainingSchedule;

/**
 * Every pruning schedule's lengths in steps or in epochs (passes over the data the run trains on):
 * the steps they become, the ids they give, and the errors of a wrong length.
 */
class PruningLengthTest {
    private static final int TRAIN = 1_000;
    private static final int BATCH = 64;
    private static final int PER_EPOCH = TRAIN / BATCH; // 15 full batches; the last 40 examples wait for the next pass

    private static ExperimentConfig parse(String yaml) {
        return ConfigLoaderTest.parse(yaml);
    }

    private static String error(String yaml) {
        return ConfigLoaderTest.error(yaml);
    }

    private static PruningMethod method(String key) {
        return MethodInternals.method(key);
    }

    /** The training of method {@code key} to {@code target} on {@code plan}'s split. */
    private static TrainingSchedule schedule(ExperimentConfig c, UpstreamSchedules plan, String key, double target) {
        return MethodInternals.schedule(c, key, plan, target);
    }

    /** A recipe's field as the config stores it (null when the other of two alternative keys is given). */
    private static com.fasterxml.jackson.databind.JsonNode field(ExperimentConfig c, String method, String key) {
        com.fasterxml.jackson.databind.JsonNode recipe = ConfigLoader.yamlMapper().valueToTree(c.pruning.recipes().get(method));
        assertTrue(recipe.has(key), method + " has no key " + key + ": " + recipe);
        return recipe.get(key);
    }

    @Test
    void epochsBecomeStepsOfTheUpstreamSplitAtThePruningBatch() {
        ExperimentConfig c = parse("""
                upstream: {batch_size: 100, epochs: 4}
                pruning:
                  batch_size: 64
                  oneshot: {epochs: 2}
                  gmp_star: {warmup_epochs: 1, pruning_steps: 4, interval_epochs: 0.5, recovery_epochs: 3}
                  gmp: {pruning_steps: 2, interval_epochs: 1, recovery_steps: 7}
                  imp: {rewind_epoch: 1, retrain_epochs: 1.5}
                  colt: {train_epochs: 2, final_epochs: 5}
                """);
        assertTrue(field(c, "oneshot", "steps").isNull(), "epochs replace the default steps");
        assertTrue(field(c, "gmp_star", "interval").isNull());
        assertEquals(7, field(c, "gmp", "recovery_steps").intValue(), "a key left in steps stays in steps");
        assertTrue(field(c, "gmp", "recovery_epochs").isNull());
        assertEquals(PER_EPOCH, TrainingSchedule.stepsPerEpoch(TRAIN, BATCH));
        UpstreamSchedules plan = new UpstreamSchedules(c, TRAIN);

        assertEquals(2 * PER_EPOCH, schedule(c, plan, "oneshot", 0.9).totalSteps());

        GmpSchedule star = (GmpSchedule) schedule(c, plan, "gmp_star", 0.9);
        int interval = Math.round(0.5f * PER_EPOCH); // 7.5 steps round to 8
        assertEquals(8, interval);
        assertEquals(PER_EPOCH, star.eventStep(0), "the first pruning step after one epoch of warm-up");
        assertEquals(PER_EPOCH + 4 * interval, star.eventStep(4));
        assertEquals(PER_EPOCH + 4 * interval + 3 * PER_EPOCH, star.totalSteps());
        assertTrue(star.pruneBefore(PER_EPOCH + interval).isPresent());
        assertTrue(star.pruneBefore(PER_EPOCH + interval - 1).isEmpty());

        GmpSchedule classic = (GmpSchedule) schedule(c, plan, "gmp", 0.9);
        assertEquals(2 * PER_EPOCH + 7, classic.totalSteps());

        // The rewind point counts the dense run's epochs (its own batch); retraining counts the pruning batch.
        assertEquals(TRAIN / 100, MethodInternals.impRewindStep(c, plan));
        assertEquals(Math.round(1.5 * PER_EPOCH), MethodInternals.impRetrainSchedule(c, plan).totalSteps());

        // A COLT segment's epoch is a pass over that segment; the ticket's is a pass over the whole split.
        assertEquals(2 * (300 / BATCH), MethodInternals.coltSegmentSchedule(c, 300).totalSteps());
        assertEquals(2 * (700 / BATCH), MethodInternals.coltSegmentSchedule(c, 700).totalSteps());
        assertEquals(5 * PER_EPOCH, MethodInternals.coltFinalSchedule(c, plan).totalSteps());
    }

    @Test
    void stepsStayAsTheyAreWhateverTheSplitSize() {
        ExperimentConfig c = parse("pruning: {oneshot: {steps: 33}, imp: {rewind_step: 4}}\n");
        for (int train : new int[] {10, TRAIN, 1_000_000}) {
            UpstreamSchedules plan = new UpstreamSchedules(c, train);
            assertEquals(33, schedule(c, plan, "oneshot", 0.5).totalSteps());
            assertEquals(4, MethodInternals.impRewindStep(c, plan));
        }
    }

    @Test
    void aFractionalEpochIsAtLeastOneStepAndZeroWarmupIsNone() {
        ExperimentConfig c = parse("pruning: {batch_size: 64, oneshot: {epochs: 0.001}, gmp_star: {warmup_epochs: 0}}\n");
        UpstreamSchedules plan = new UpstreamSchedules(c, TRAIN);
        assertEquals(1, schedule(c, plan, "oneshot", 0.5).totalSteps());
        assertEquals(0, ((GmpSchedule) schedule(c, plan, "gmp_star", 0.9)).eventStep(0));
    }

    @Test
    void aLengthInEpochsGivesItsOwnIdsAndStepsKeepTheOldOnes() {
        ExperimentConfig defaults = parse("{}\n");
        ExperimentConfig sameInSteps = parse("pruning: {oneshot: {steps: 400}, imp: {rewind_step: 100}}\n");
        ExperimentConfig inEpochs = parse("pruning: {oneshot: {epochs: 2}, imp: {rewind_epoch: 1}}\n");
        ExperimentIds base = new ExperimentIds(defaults);
        PruningMethod oneshot = method("oneshot");
        assertEquals(base.prunedId(oneshot, 0.9), new ExperimentIds(sameInSteps).prunedId(oneshot, 0.9));
        assertEquals(rewindId(defaults), rewindId(sameInSteps));
        assertNotEquals(base.prunedId(oneshot, 0.9), new ExperimentIds(inEpochs).prunedId(oneshot, 0.9));
        assertNotEquals(rewindId(defaults), rewindId(inEpochs));
        assertEquals(base.prunedId(method("gmp_star"), 0.9), new ExperimentIds(inEpochs).prunedId(method("gmp_star"), 0.9),
                "another method's recipe leaves GMP*'s id alone");
    }

    /** IMP's rewind point's id: the dense parent's and the rewind point's (its steps or epochs as given). */
    private static String rewindId(ExperimentConfig c) {
        return MethodInternals.impRewindId(new ExperimentIds(c), c, TRAIN);
    }

    @Test
    void aStoredConfigWithTheUnusedKeyWrittenAsNullReadsBackTheSame() throws Exception {
        ExperimentConfig inEpochs = parse("pruning: {gmp_star: {interval_epochs: 0.5, recovery_epochs: 2}, colt: {final_epochs: 3}}\n");
        String stored = ConfigLoader.yamlMapper().writeValueAsString(inEpochs);
        assertTrue(stored.contains("interval: null"), stored);
        ExperimentConfig reread = ConfigLoader.parse(new ByteArrayInputStream(stored.getBytes(StandardCharsets.UTF_8)), "stored run");
        assertEquals(0.5, field(reread, "gmp_star", "interval_epochs").doubleValue());
        assertTrue(field(reread, "gmp_star", "interval").isNull());
        assertEquals(new ExperimentIds(inEpochs).prunedId(method("gmp_star"), 0.9),
                new ExperimentIds(reread).prunedId(method("gmp_star"), 0.9));
        assertEquals(new ExperimentIds(inEpochs).prunedId(method("colt"), 0.9),
                new ExperimentIds(reread).prunedId(method("colt"), 0.9));
    }

    @Test
    void aWrongLengthIsOneClearError() {
        assertTrue(error("pruning: {oneshot: {steps: 10, epochs: 2}}\n").contains(
                "pruning.oneshot.steps and pruning.oneshot.epochs in test.yaml are two ways to give one length; give one of them"));
        assertTrue(error("pruning: {imp: {retrain_steps: 10, retrain_epochs: 2}}\n").contains("pruning.imp.retrain_steps and "
                + "pruning.imp.retrain_epochs"));
        assertTrue(error("pruning: {gmp: {interval: null}}\n").contains("gives neither pruning.gmp.interval nor pruning.gmp.interval_epochs"));
        assertTrue(error("pruning: {oneshot: {epochs: 0}}\n").contains("pruning.oneshot.epochs"));
        assertTrue(error("pruning: {oneshot: {epochs: 0}}\n").contains("a positive number of epochs"));
        assertTrue(error("pruning: {gmp_star: {warmup_epochs: -1}}\n").contains("zero or more of epochs"));
        assertTrue(error("pruning: {colt: {train_steps: 0}}\n").contains("pruning.colt.train_steps"));
        assertTrue(error("pruning: {colt: {final_epochs: [1]}}\n").contains("pruning.colt.final_epochs"));
    }

    @Test
    void aOneShotRunInEpochsTrainsThatManyPassesAndItsMaskHolds() throws Exception {
        ExperimentConfig c = parse("pruning: {batch_size: 50, sparsities: [0.8], oneshot: {epochs: 1.5, lr: 0.05}}\n");
        TaskRegistry.Splits splits = new TaskRegistry.Splits(Synthetic.squares("up", 400, 9, 1, 0),
                Synthetic.squares("up", 100, 9, 2, 0), Synthetic.squares("up", 100, 9, 3, 0));
        UpstreamExperiment experiment = new UpstreamExperiment(c, splits, Device.cpu());
        // The initialization stands for the dense model: what is pruned and fine-tuned does not matter here.
        org.sparsetransfer.core.model.Weights init = experiment.initialWeights();
        TrainedModel start = experiment.evaluate(init, null, 0, 0, 0, TrainingLoop.Progress.SILENT);
        TrainedModel pruned = new InProcessPruning(c, splits, start, init, 1, TrainingLoop.Progress.SILENT).run(method("oneshot"))
                .get(0.8).model();
        assertEquals(12, pruned.trainSteps(), "1.5 passes of 8 batches");
        assertEquals(12L * 50, pruned.examplesSeen());
        assertEquals(0.8, pruned.sparsity(), 1e-3);
        long zeros = 0;
        for (String name : pruned.mask().tensorNames()) {
            boolean[] kept = pruned.mask().bits(name);
            float[] values = pruned.weights().get(name).values();
            for (int i = 0; i < kept.length; i++) {
                if (!kept[i]) {
                    assertEquals(0f, values[i], 0f, name + "[" + i + "] is pruned but trained to " + values[i]);
                    zeros++;
                }
            }
        }
        assertEquals(pruned.mask().prunedCount(), zeros);
    }

    @Test
    void thePaperConfigGivesItsScheduleInEpochs() {
        ExperimentConfig paper = ConfigLoader.load(Path.of("../conf/paper-resnet50.yaml"));
        int train = paper.data.images.upstreamTrain;
        UpstreamSchedules plan = new UpstreamSchedules(paper, train);
        int perEpoch = train / paper.pruning.batchSize;
        assertEquals(4_965, perEpoch, "ImageNet's training images less the 10,000 held out, at batch 256");
        assertEquals(10 * perEpoch, schedule(paper, plan, "oneshot", 0.9).totalSteps());
        assertEquals(perEpoch, ((GmpSchedule) schedule(paper, plan, "gmp", 0.9)).eventStep(1), "one pruning step per epoch");
        assertEquals(TrainingSchedule.stepsPerEpoch(train, paper.upstream.batchSize), MethodInternals.impRewindStep(paper, plan),
                "rewound to epoch 1");
        assertEquals(20 * perEpoch, MethodInternals.impRetrainSchedule(paper, plan).totalSteps());
        assertEquals(10 * (train / 2 / 256), MethodInternals.coltSegmentSchedule(paper, train / 2).totalSteps());
        assertEquals(20 * perEpoch, MethodInternals.coltFinalSchedule(paper, plan).totalSteps());
    }

    @Test
    void theDryRunNamesEachPruningLengthWithItsSteps() {
        ExperimentConfig c = parse("""
                pruning:
                  methods: [dense, oneshot, gmp_star, imp, colt]
                  batch_size: 64
                  oneshot: {epochs: 2}
                  gmp_star: {warmup_epochs: 1, pruning_steps: 4, interval: 8, recovery_epochs: 3}
                  imp: {rewind_step: 5, retrain_epochs: 1.5}
                  colt: {segments: 2, train_epochs: 2, final_steps: 40}
                """);
        String text = org.sparsetransfer.core.experiment.ExperimentPlan.formatPruning(c, TRAIN);
        assertTrue(text.startsWith("Pruning lengths (1,000 upstream training images, batch 64):\n"), text);
        assertTrue(text.contains("  oneshot: fine-tuning 2 epochs = 30 steps\n"), text);
        assertTrue(text.contains("  gmp_star: warm-up 1 epoch = 15 steps, 4 intervals of 8 steps, recovery 3 epochs = 45 steps\n"), text);
        assertTrue(text.contains("  imp: rewind point 5 steps into the dense run, 1.5 epochs = 23 steps of retraining per round\n"), text);
        assertTrue(text.contains("  colt: 2 epochs = 14 steps per segment and round (segments of about 500 images), ticket 40 steps\n"), text);
        assertTrue(!text.contains("  dense:"), "the dense model has no pruning lengths");
    }

    @Test
    void theDryRunNamesTheNewMethodsLengthsInStepsOrEpochs() {
        ExperimentConfig c = parse("""
                pruning:
                  methods: [dense, acdc, rigl, nm]
                  batch_size: 64
                  acdc: {warmup_epochs: 1, compressed_steps: 10, decompressed_epochs: 0.5, cycles: 2, final_epochs: 2}
                  rigl: {epochs: 3, delta_t: 50}
                  nm: {epochs: 1, group_size: 8, sparsities: [0.5]}
                """);
        String text = org.sparsetransfer.core.experiment.ExperimentPlan.formatPruning(c, TRAIN);
        assertTrue(text.contains("  acdc: warm-up 1 epoch = 15 steps, 2 x (compressed 10 steps, decompressed 0.5 epochs = 8 steps), "
                + "final compressed 2 epochs = 30 steps, from the initialization\n"), text);
        assertTrue(text.contains("  rigl: 3 epochs = 45 steps from the initialization, erk densities, updates every 50 steps until "
                + "75% of training\n"), text);
        assertTrue(text.contains("  nm: 8-groups, fine-tuning 1 epoch = 15 steps; tensors whose input size is not a multiple of 8, "
                + "and depthwise convolutions, stay dense\n"), text);
        UpstreamSchedules plan = new UpstreamSchedules(c, TRAIN);
        assertEquals(15 + 2 * (10 + 8) + 30, schedule(c, plan, "acdc", 0.9).totalSteps());
        assertEquals(3 * PER_EPOCH, schedule(c, plan, "rigl", 0.9).totalSteps());
        assertEquals(PER_EPOCH, schedule(c, plan, "nm", 0.5).totalSteps());
    }
}
