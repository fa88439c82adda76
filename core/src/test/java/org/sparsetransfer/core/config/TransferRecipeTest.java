package org.sparsetransfer.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.sparsetransfer.core.experiment.ExperimentPlan;
import org.sparsetransfer.core.experiment.TransferExperiment;
import org.sparsetransfer.core.train.TrainingSchedule;
import org.sparsetransfer.core.transfer.Regime;

/**
 * Transfer recipes in epochs or steps, with learning-rate milestones, per-regime seeds and
 * per-task overrides: Iofinova et al. (2022)'s protocol is expressible exactly, and a wrong
 * recipe is one clear error.
 */
class TransferRecipeTest {
    private static ExperimentConfig parse(String yaml) {
        return ConfigLoaderTest.parse(yaml);
    }

    private static String error(String yaml) {
        return ConfigLoaderTest.error(yaml);
    }

    @Test
    void thePapersProtocolResolvesPerTaskAndRegime() {
        ExperimentConfig paper = ConfigLoader.load(Path.of("../conf/paper-resnet50.yaml"));
        ExperimentConfig.Transfer t = paper.transfer;
        assertEquals(64, t.batchSize);
        assertEquals(0.9f, t.momentum);
        for (String task : t.tasks) {
            for (Regime regime : Regime.values()) {
                ExperimentConfig.Regime r = t.recipe(task, regime);
                assertEquals(150, r.epochs, task + " " + regime);
                assertNull(r.steps, "epochs replace the default steps");
                assertEquals(List.of(50, 100), r.lrMilestones);
                assertEquals(0.1f, r.lrGamma);
                assertEquals(5e-4f, r.weightDecay);
            }
            assertEquals(0.01f, t.recipe(task, Regime.LINEAR).lr, task);
            float full = List.of("aircraft", "cars").contains(task) ? 0.01f : 0.001f;
            assertEquals(full, t.recipe(task, Regime.FULL).lr, task);
        }
        assertEquals(List.of(0L, 1L, 2L, 3L, 4L), t.seeds(Regime.LINEAR));
        assertEquals(List.of(0L, 1L, 2L), t.seeds(Regime.FULL));
        assertEquals("linear [0, 1, 2, 3, 4], full [0, 1, 2]", t.seedsDescription());
    }

    @Test
    void epochsBecomeStepsAndMilestonesDecayTheRateLikeMultiStepLr() {
        ExperimentConfig paper = ConfigLoader.load(Path.of("../conf/paper-resnet50.yaml"));
        ExperimentConfig.Regime aircraftFull = paper.transfer.recipe("aircraft", Regime.FULL);
        int perEpoch = 6_667 / 64; // 104 full batches; the last 11 images wait for the next pass
        assertEquals(perEpoch, TrainingSchedule.stepsPerEpoch(6_667, 64));
        TrainingSchedule schedule = TransferExperiment.schedule(aircraftFull, 6_667, 64);
        assertEquals(150 * perEpoch, schedule.totalSteps());
        // torch.optim.lr_scheduler.MultiStepLR(milestones=[50, 100], gamma=0.1) stepped once per epoch:
        // epoch e trains at lr * 0.1 ** (number of milestones <= e).
        for (int epoch = 0; epoch < 150; epoch++) {
            double expected = 0.01 * Math.pow(0.1, (epoch >= 50 ? 1 : 0) + (epoch >= 100 ? 1 : 0));
            for (int step : new int[] {epoch * perEpoch, (epoch + 1) * perEpoch - 1}) {
                assertEquals(expected, schedule.learningRate(step), expected * 1e-6, "epoch " + epoch + " step " + step);
            }
        }
        // A task smaller than a batch trains on all of it each step.
        assertEquals(1, TrainingSchedule.stepsPerEpoch(40, 64));
    }

    @Test
    void stepsWithoutMilestonesDecayOnceAtTwoThirdsAsBefore() {
        ExperimentConfig tiny = ConfigLoader.load(Path.of("../conf/tiny.yaml"));
        ExperimentConfig.Regime linear = tiny.transfer.recipe("mnist", Regime.LINEAR);
        TrainingSchedule schedule = TransferExperiment.schedule(linear, 600, 64);
        assertEquals(60, schedule.totalSteps());
        assertEquals(0.05f, schedule.learningRate(39));
        assertEquals(0.05f * 0.1f, schedule.learningRate(40), 1e-9);
        assertEquals(List.of(0L, 1L), tiny.transfer.seeds(Regime.FULL));
    }

    @Test
    void aPerTaskEntryMergesIntoItsRegimeAndChangesTheSettingsHash() {
        String base = """
                transfer:
                  tasks: [mnist, digits8x8]
                  full: {epochs: 30, lr: 0.01, lr_milestones: [10, 20]}
                """;
        ExperimentConfig plain = parse(base);
        ExperimentConfig tuned = parse(base + "  per_task:\n    digits8x8:\n      full: {lr: 0.05}\n");
        ExperimentConfig.Regime digits = tuned.transfer.recipe("digits8x8", Regime.FULL);
        assertEquals(0.05f, digits.lr);
        assertEquals(30, digits.epochs);
        assertEquals(List.of(10, 20), digits.lrMilestones, "the rest of the regime's recipe is kept");
        assertEquals(0.01f, tuned.transfer.recipe("mnist", Regime.FULL).lr, "other tasks keep the regime's lr");
        assertEquals(plain.transfer.linear.lr, tuned.transfer.recipe("digits8x8", Regime.LINEAR).lr);
        assertNotEquals(new ExperimentIds(plain).transferSettingsHash(), new ExperimentIds(tuned).transferSettingsHash());
        ExperimentConfig inSteps = parse(base + "  per_task:\n    mnist:\n      full: {steps: 90, lr_milestones: [60]}\n");
        assertEquals(90, inSteps.transfer.recipe("mnist", Regime.FULL).steps);
        assertNull(inSteps.transfer.recipe("mnist", Regime.FULL).epochs);
    }

    @Test
    void newKeysAtTheirDefaultsLeaveTheSettingsHashAlone() throws Exception {
        // Ids hash only non-default values: the new keys, given at their defaults, keep every stored results key.
        String demo = java.nio.file.Files.readString(Path.of("../conf/demo.yaml"));
        String withDefaults = demo.replaceFirst("\n  full:\n    steps: (\\d+)\n", "\n  per_task: {}\n  full:\n    steps: $1\n    lr_gamma: 0.1\n");
        assertNotEquals(demo, withDefaults);
        ExperimentConfig explicit = parse(withDefaults);
        assertEquals(0.1f, explicit.transfer.full.lrGamma);
        assertEquals(new ExperimentIds(ConfigLoader.load(Path.of("../conf/demo.yaml"))).transferSettingsHash(), new ExperimentIds(explicit).transferSettingsHash());
        // Likewise the keys added for the probe and the validation split, at their defaults.
        String tiny = java.nio.file.Files.readString(Path.of("../conf/tiny.yaml"));
        String probeDefaults = tiny.replace("  full:\n    steps: 40\n", "  validation: {fraction: 0.2, min_per_class: 20, folds: 5}\n"
                + "  probe: {tolerance: 0.00001, max_iterations: 1000}\n  full:\n    steps: 40\n");
        assertNotEquals(tiny, probeDefaults);
        assertEquals(new ExperimentIds(ConfigLoader.load(Path.of("../conf/tiny.yaml"))).transferSettingsHash(),
                new ExperimentIds(parse(probeDefaults)).transferSettingsHash());
    }

    @Test
    void aConfigAsARunRecordStoresItReadsBackToTheSameRecipes() throws Exception {
        // The runs table keeps each run's config as YAML (report --as-of-run reads it back): nulls and resolved entries included.
        ExperimentConfig paper = ConfigLoader.load(Path.of("../conf/paper-resnet50.yaml"));
        String stored = ConfigLoader.yamlMapper().writeValueAsString(paper);
        ExperimentConfig back = parse(stored);
        for (String task : paper.transfer.tasks) {
            for (Regime regime : Regime.values()) {
                assertEquals(ConfigLoader.yamlMapper().writeValueAsString(paper.transfer.recipe(task, regime)),
                        ConfigLoader.yamlMapper().writeValueAsString(back.transfer.recipe(task, regime)), task + " " + regime);
            }
        }
        assertEquals(new ExperimentIds(paper).transferSettingsHash(), new ExperimentIds(back).transferSettingsHash());
    }

    @Test
    void wrongRecipesAreOneClearError() {
        assertTrue(error("transfer:\n  full: {steps: 10, epochs: 3}\n").contains("transfer.full.steps and transfer.full.epochs in test.yaml are two ways to give one length"));
        assertTrue(error("transfer:\n  full: {epochs: 0}\n").contains("transfer.full.epochs"));
        assertTrue(error("transfer:\n  full: {epochs: 10, lr_milestones: [5, 3]}\n").contains("transfer.full.lr_milestones[1]"));
        assertTrue(error("transfer:\n  full: {epochs: 10, lr_milestones: [10]}\n").contains("before the run's 10 epochs"));
        assertTrue(error("transfer:\n  linear: {lr_gamma: 1.5}\n").contains("transfer.linear.lr_gamma"));
        assertTrue(error("transfer:\n  linear: {seeds: []}\n").contains("transfer.linear.seeds"));
        assertTrue(error("transfer:\n  per_task:\n    cifar10:\n      full: {lr: 0.1}\n")
                .contains("transfer.per_task.cifar10 in test.yaml: cifar10 is not one of transfer.tasks"));
        assertTrue(error("transfer:\n  per_task:\n    mnist:\n      full: {seeds: [4]}\n")
                .contains("seeds are set per regime (transfer.full.seeds), not per task"));
        assertTrue(error("transfer:\n  full: {epochs: 30, lr_milestones: [10]}\n  per_task:\n    mnist:\n      full: {steps: 50}\n")
                .contains("counts in steps but would inherit lr_milestones [10] in epochs"));
        assertTrue(error("transfer:\n  per_task:\n    mnist:\n      full: {rate: 0.1}\n").contains("Unknown key 'rate'"));
    }

    @Test
    void theDryRunNamesEveryTaskWithItsEpochsAndSteps() {
        ExperimentConfig paper = ConfigLoader.load(Path.of("../conf/paper-resnet50.yaml"));
        List<ExperimentPlan.TaskPlan> tasks = ExperimentPlan.tasks(paper);
        assertEquals(paper.transfer.tasks, tasks.stream().map(ExperimentPlan.TaskPlan::task).toList());
        ExperimentPlan.TaskPlan aircraft = tasks.get(0);
        assertEquals("full: 150 epochs = 15,600 steps, lr 0.01 x0.1 at epochs [50, 100], weight decay 5.0E-4, 3 seeds",
                aircraft.describe(Regime.FULL));
        long steps = 0;
        for (ExperimentPlan.TaskPlan task : tasks) {
            steps += 5 * task.steps(Regime.LINEAR).orElseThrow() + 3 * task.steps(Regime.FULL).orElseThrow();
        }
        ExperimentPlan plan = ExperimentPlan.of(paper, paper.data.images.upstreamTrain);
        ExperimentPlan.Stage transfer = plan.stages().stream().filter(s -> s.name().equals("transfer")).findFirst().orElseThrow();
        // conf/paper-resnet50.yaml's 31 checkpoints: dense, 7 methods at 4 sparsities, N:M at 2 (ExperimentPlanTest).
        assertEquals(31, plan.checkpoints());
        assertEquals(31L * 12 * (5 + 3), transfer.runs(), "31 checkpoints x 12 tasks x (5 linear + 3 full seeds)");
        assertEquals(31L * steps, transfer.steps());
    }
}
