package org.sparsetransfer.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.sparsetransfer.core.Synthetic;
import org.sparsetransfer.core.experiment.TrainedModel;
import org.sparsetransfer.core.experiment.UpstreamExperiment;
import org.sparsetransfer.core.prune.GmpSchedule;
import org.sparsetransfer.core.prune.PruningMethod;
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
        assertNull(c.pruning.oneshot.steps, "epochs replace the default steps");
        assertNull(c.pruning.gmpStar.interval);
        assertEquals(7, c.pruning.gmp.recoverySteps, "a key left in steps stays in steps");
        assertNull(c.pruning.gmp.recoveryEpochs);
        assertEquals(PER_EPOCH, TrainingSchedule.stepsPerEpoch(TRAIN, BATCH));
        UpstreamExperiment plan = UpstreamExperiment.forPlanning(c, TRAIN);

        assertEquals(2 * PER_EPOCH, plan.pruneSchedule(PruningMethod.ONESHOT, 0.9).totalSteps());

        GmpSchedule star = (GmpSchedule) plan.pruneSchedule(PruningMethod.GMP_STAR, 0.9);
        int interval = Math.round(0.5f * PER_EPOCH); // 7.5 steps round to 8
        assertEquals(8, interval);
        assertEquals(PER_EPOCH, star.eventStep(0), "the first pruning step after one epoch of warm-up");
        assertEquals(PER_EPOCH + 4 * interval, star.eventStep(4));
        assertEquals(PER_EPOCH + 4 * interval + 3 * PER_EPOCH, star.totalSteps());
        assertTrue(star.pruneBefore(PER_EPOCH + interval).isPresent());
        assertTrue(star.pruneBefore(PER_EPOCH + interval - 1).isEmpty());

        GmpSchedule classic = (GmpSchedule) plan.pruneSchedule(PruningMethod.GMP, 0.9);
        assertEquals(2 * PER_EPOCH + 7, classic.totalSteps());

        // The rewind point counts the dense run's epochs (its own batch); retraining counts the pruning batch.
        assertEquals(TRAIN / 100, plan.impRewindStep());
        assertEquals(Math.round(1.5 * PER_EPOCH), plan.impRetrainSchedule().totalSteps());

        // A COLT segment's epoch is a pass over that segment; the ticket's is a pass over the whole split.
        assertEquals(2 * (300 / BATCH), plan.coltSegmentSchedule(300).totalSteps());
        assertEquals(2 * (700 / BATCH), plan.coltSegmentSchedule(700).totalSteps());
        assertEquals(5 * PER_EPOCH, plan.coltFinalSchedule().totalSteps());
    }

    @Test
    void stepsStayAsTheyAreWhateverTheSplitSize() {
        ExperimentConfig c = parse("pruning: {oneshot: {steps: 33}, imp: {rewind_step: 4}}\n");
        for (int train : new int[] {10, TRAIN, 1_000_000}) {
            UpstreamExperiment plan = UpstreamExperiment.forPlanning(c, train);
            assertEquals(33, plan.pruneSchedule(PruningMethod.ONESHOT, 0.5).totalSteps());
            assertEquals(4, plan.impRewindStep());
        }
    }

    @Test
    void aFractionalEpochIsAtLeastOneStepAndZeroWarmupIsNone() {
        ExperimentConfig c = parse("pruning: {batch_size: 64, oneshot: {epochs: 0.001}, gmp_star: {warmup_epochs: 0}}\n");
        UpstreamExperiment plan = UpstreamExperiment.forPlanning(c, TRAIN);
        assertEquals(1, plan.pruneSchedule(PruningMethod.ONESHOT, 0.5).totalSteps());
        assertEquals(0, ((GmpSchedule) plan.pruneSchedule(PruningMethod.GMP_STAR, 0.9)).eventStep(0));
    }

    @Test
    void aLengthInEpochsGivesItsOwnIdsAndStepsKeepTheOldOnes() {
        ExperimentConfig defaults = parse("{}\n");
        ExperimentConfig sameInSteps = parse("pruning: {oneshot: {steps: 400}, imp: {rewind_step: 100}}\n");
        ExperimentConfig inEpochs = parse("pruning: {oneshot: {epochs: 2}, imp: {rewind_epoch: 1}}\n");
        ExperimentIds base = new ExperimentIds(defaults);
        assertEquals(base.prunedId(PruningMethod.ONESHOT, 0.9), new ExperimentIds(sameInSteps).prunedId(PruningMethod.ONESHOT, 0.9));
        assertEquals(base.rewindId(), new ExperimentIds(sameInSteps).rewindId());
        assertNotEquals(base.prunedId(PruningMethod.ONESHOT, 0.9), new ExperimentIds(inEpochs).prunedId(PruningMethod.ONESHOT, 0.9));
        assertNotEquals(base.rewindId(), new ExperimentIds(inEpochs).rewindId());
        assertEquals(base.prunedId(PruningMethod.GMP_STAR, 0.9), new ExperimentIds(inEpochs).prunedId(PruningMethod.GMP_STAR, 0.9),
                "another method's recipe leaves GMP*'s id alone");
    }

    @Test
    void aStoredConfigWithTheUnusedKeyWrittenAsNullReadsBackTheSame() throws Exception {
        ExperimentConfig inEpochs = parse("pruning: {gmp_star: {interval_epochs: 0.5, recovery_epochs: 2}, colt: {final_epochs: 3}}\n");
        String stored = ConfigLoader.yamlMapper().writeValueAsString(inEpochs);
        assertTrue(stored.contains("interval: null"), stored);
        ExperimentConfig reread = ConfigLoader.parse(new ByteArrayInputStream(stored.getBytes(StandardCharsets.UTF_8)), "stored run");
        assertEquals(0.5, reread.pruning.gmpStar.intervalEpochs);
        assertNull(reread.pruning.gmpStar.interval);
        assertEquals(new ExperimentIds(inEpochs).prunedId(PruningMethod.GMP_STAR, 0.9),
                new ExperimentIds(reread).prunedId(PruningMethod.GMP_STAR, 0.9));
        assertEquals(new ExperimentIds(inEpochs).prunedId(PruningMethod.COLT, 0.9),
                new ExperimentIds(reread).prunedId(PruningMethod.COLT, 0.9));
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
        ExperimentConfig c = parse("pruning: {batch_size: 50, oneshot: {epochs: 1.5, lr: 0.05}}\n");
        TaskRegistry.Splits splits = new TaskRegistry.Splits(Synthetic.squares("up", 400, 9, 1, 0),
                Synthetic.squares("up", 100, 9, 2, 0), Synthetic.squares("up", 100, 9, 3, 0));
        UpstreamExperiment experiment = new UpstreamExperiment(c, splits, Device.cpu());
        TrainedModel pruned = experiment.prune(PruningMethod.ONESHOT, 0.8, experiment.initialWeights(), TrainingLoop.Progress.SILENT);
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
        UpstreamExperiment plan = UpstreamExperiment.forPlanning(paper, train);
        int perEpoch = train / paper.pruning.batchSize;
        assertEquals(4_965, perEpoch, "ImageNet's training images less the 10,000 held out, at batch 256");
        assertEquals(10 * perEpoch, plan.pruneSchedule(PruningMethod.ONESHOT, 0.9).totalSteps());
        assertEquals(perEpoch, ((GmpSchedule) plan.pruneSchedule(PruningMethod.GMP, 0.9)).eventStep(1), "one pruning step per epoch");
        assertEquals(TrainingSchedule.stepsPerEpoch(train, paper.upstream.batchSize), plan.impRewindStep(), "rewound to epoch 1");
        assertEquals(20 * perEpoch, plan.impRetrainSchedule().totalSteps());
        assertEquals(10 * (train / 2 / 256), plan.coltSegmentSchedule(train / 2).totalSteps());
        assertEquals(20 * perEpoch, plan.coltFinalSchedule().totalSteps());
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
}
