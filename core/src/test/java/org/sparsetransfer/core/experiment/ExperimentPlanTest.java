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
        Map<String, ExperimentPlan.Stage> s = stages(ExperimentPlan.of(tiny, tiny.data.upstreamTrain));
        assertEquals(138, s.get("upstream").steps(), "3 epochs x 46 batches of 128 (the tiny run's dense checkpoint)");
        assertEquals(256, s.get("transfer").runs(), "16 checkpoints x 4 tasks x 2 regimes x 2 seeds (the tiny run's results)");
    }

    @Test
    void paperResNet50PlansTheFullGrid() {
        ExperimentConfig paper = ConfigLoader.load(CONF.resolve("paper-resnet50.yaml"));
        assertEquals("resnet50", paper.model);
        ExperimentPlan plan = ExperimentPlan.of(paper, paper.data.images.upstreamTrain);
        Map<String, ExperimentPlan.Stage> s = stages(plan);
        assertEquals(1 + 5 * 4, plan.checkpoints(), "dense + 5 methods x 4 sparsities");
        assertEquals(21L * 12 * (5 + 3), s.get("transfer").runs(), "5 linear and 3 full seeds (TransferRecipeTest checks the steps)");
        assertEquals(90L * (1_271_167 / 256), s.get("upstream").steps());
        int impRounds = ImpPlan.plan(List.of(0.8, 0.9, 0.95, 0.98), 0.2).stream().mapToInt(r -> r.length).sum();
        long singles = 3 * 4; // oneshot, gmp, gmp_star at four targets
        assertEquals(singles + impRounds + 30 * 2 + 4, s.get("prune").runs());
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
