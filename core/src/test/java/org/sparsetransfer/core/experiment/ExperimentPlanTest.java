package org.sparsetransfer.core.experiment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.sparsetransfer.core.config.ConfigLoader;
import org.sparsetransfer.core.config.ExperimentConfig;
import org.sparsetransfer.core.method.MethodPlan;
import org.sparsetransfer.core.method.PruningMethods;
import org.sparsetransfer.core.prune.ImpPlan;

/** The shipped configs load, validate and plan their whole grid without data or training. */
class ExperimentPlanTest {
    private static final Path CONF = Path.of("../conf");

    private static Map<String, ExperimentPlan.Stage> stages(ExperimentPlan plan) {
        return plan.stages().stream().collect(Collectors.toMap(ExperimentPlan.Stage::name, s -> s));
    }

    @Test
    void tinyPlanMatchesWhatItsPipelineRuns() {
        ExperimentConfig tiny = ConfigLoader.load(CONF.resolve("tiny.yaml"));
        assertEquals(List.of("dense", "oneshot", "gmp", "gmp_star", "imp", "colt", "acdc", "rigl", "nm"), tiny.pruning.methods);
        ExperimentPlan plan = ExperimentPlan.of(tiny, tiny.data.upstreamTrain);
        Map<String, ExperimentPlan.Stage> s = stages(plan);
        assertEquals(138, s.get("upstream").steps(), "3 epochs x 46 batches of 128 (the tiny run's dense checkpoint)");
        // Dense, 7 methods at 3 sparsities, N:M at its own 0.5 and 0.75; then at most one dense_extended control per pruned
        // checkpoint (their budgets are known after prune), so the transfer runs are an upper bound.
        assertEquals(1 + 23 + 23, plan.checkpoints());
        assertTrue(s.get("control").upperBound() && s.get("transfer").upperBound());
        assertEquals(1 + 23, s.get("control").runs(), "the trunk and at most one cooldown branch per pruned checkpoint");
        long longestPlan = 0;
        for (String key : tiny.pruning.methods) {
            longestPlan = Math.max(longestPlan, PruningMethods.byKey(key, "test").plan(new UpstreamSchedules(tiny, tiny.data.upstreamTrain))
                    .steps());
        }
        // The worst case the bound must hold: 23 distinct budgets up to the longest plan, a trunk and a branch each.
        List<Integer> worst = new java.util.ArrayList<>();
        for (int i = 0; i < 23; i++) {
            worst.add((int) longestPlan - i);
        }
        List<DenseExtension.Branch> branches = DenseExtension.branches(worst, tiny.controls.cooldown);
        long worstSteps = DenseExtension.trunkSteps(branches) + branches.stream().mapToLong(DenseExtension.Branch::cooldown).sum();
        assertTrue(s.get("control").steps() >= worstSteps, s.get("control").steps() + " bounds " + worstSteps);
        assertEquals(47L * 4 * 2 * 2, s.get("transfer").runs(), "checkpoints x 4 tasks x 2 regimes x 2 seeds");
        // The new methods plan what their recipes say: one run per target, from the initialization or the dense model.
        UpstreamSchedules schedules = new UpstreamSchedules(tiny, tiny.data.upstreamTrain);
        assertPlan(3, 3 * (20 + 2 * (10 + 10) + 20), PruningMethods.byKey("acdc", "test").plan(schedules));
        assertPlan(3, 3 * 60, PruningMethods.byKey("rigl", "test").plan(schedules));
        assertPlan(2, 2 * 20, PruningMethods.byKey("nm", "test").plan(schedules));
    }

    private static void assertPlan(long runs, long steps, MethodPlan plan) {
        assertEquals(runs, plan.runs(), plan.detail());
        assertEquals(steps, plan.steps(), plan.detail());
        assertTrue(!plan.upperBound(), plan.detail());
    }

    @Test
    void paperTransferPlansThePublishedCheckpointsOnTheTwelveTasksWithoutUpstream() {
        ExperimentConfig paper = ConfigLoader.load(CONF.resolve("paper-transfer.yaml"));
        assertEquals("resnet50", paper.model);
        assertTrue(!paper.upstream.enabled && paper.pruning.methods.isEmpty());
        ExperimentPlan plan = ExperimentPlan.of(paper, paper.data.images.upstreamTrain);
        Map<String, ExperimentPlan.Stage> s = stages(plan);
        assertEquals(1 + 15, plan.checkpoints(), "the imported dense model and 15 published sparse ones");
        assertEquals(16L * 12 * (5 + 3), s.get("transfer").runs(), "5 linear and 3 full seeds on the twelve tasks");
        assertEquals(0, s.get("upstream").runs());
        assertEquals(0, s.get("prune").runs());
        assertTrue(s.get("ingest").detail().startsWith("12 datasets (the tasks;"), s.get("ingest").detail());
        assertTrue(s.get("import").detail().startsWith("16 imported checkpoints (dense, acdc_published, acdc_published"), s.get("import").detail());
        // Its shape in miniature: the template synth-images fills in (the paths are placeholders until then).
        ExperimentConfig smoke = ConfigLoader.parse(new java.io.ByteArrayInputStream(readConf("paper-smoke.yaml").replace("@DIR@", "/tmp/x")
                .getBytes(java.nio.charset.StandardCharsets.UTF_8)), "paper-smoke.yaml");
        assertEquals(4, ExperimentPlan.of(smoke, 0).checkpoints());
    }

    private static String readConf(String name) {
        try {
            return java.nio.file.Files.readString(CONF.resolve(name));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void paperResNet50PlansTheFullGrid() {
        ExperimentConfig paper = ConfigLoader.load(CONF.resolve("paper-resnet50.yaml"));
        assertEquals("resnet50", paper.model);
        ExperimentPlan plan = ExperimentPlan.of(paper, paper.data.images.upstreamTrain);
        Map<String, ExperimentPlan.Stage> s = stages(plan);
        assertEquals(List.of("dense", "oneshot", "gmp", "gmp_star", "imp", "colt", "acdc", "rigl", "nm"), paper.pruning.methods);
        assertEquals(1 + 7 * 4 + 2, plan.checkpoints(), "dense + 7 methods x 4 sparsities + N:M's 2:4 and 1:4");
        assertEquals(31L * 12 * (5 + 3), s.get("transfer").runs(), "5 linear and 3 full seeds (TransferRecipeTest checks the steps)");
        assertEquals(90L * (1_271_167 / 256), s.get("upstream").steps());
        int impRounds = ImpPlan.plan(List.of(0.8, 0.9, 0.95, 0.98), 0.2).stream().mapToInt(r -> r.length).sum();
        long singles = 5 * 4 + 2; // oneshot, gmp, gmp_star, acdc and rigl at four targets, N:M at two
        assertEquals(singles + impRounds + 30 * 2 + 4, s.get("prune").runs());
        int perEpoch = 1_271_167 / 256;
        UpstreamSchedules schedules = new UpstreamSchedules(paper, paper.data.images.upstreamTrain);
        assertPlan(4, 4L * (10 + 7 * (5 + 5) + 15) * perEpoch, PruningMethods.byKey("acdc", "test").plan(schedules));
        assertPlan(4, 4L * 100 * perEpoch, PruningMethods.byKey("rigl", "test").plan(schedules));
        assertPlan(2, 2L * 10 * perEpoch, PruningMethods.byKey("nm", "test").plan(schedules));
        assertTrue(s.get("prune").upperBound(), "COLT's rounds are an upper bound");
        assertTrue(plan.format().contains("transfer"), plan.format());
    }

    @Test
    void cifarResNet18Plans() {
        ExperimentConfig cifar = ConfigLoader.load(CONF.resolve("cifar-resnet18.yaml"));
        ExperimentPlan plan = ExperimentPlan.of(cifar, cifar.data.images.upstreamTrain);
        assertEquals(16, plan.checkpoints());
        assertEquals(16L * 4 * 2 * 3, stages(plan).get("transfer").runs());
        assertEquals(60L * (45_000 / 128), stages(plan).get("upstream").steps());
    }
}
