package org.sparsetransfer.core.experiment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.sparsetransfer.core.config.ExperimentConfig;
import org.sparsetransfer.core.train.TrainingSchedule;

class DenseExtensionTest {
    private static ExperimentConfig config() {
        ExperimentConfig c = new ExperimentConfig();
        c.upstream.lr = 0.05f;
        return c;
    }

    @Test
    void everyControlTrainsExactlyItsBudgetAndEndsAtLearningRateZero() {
        ExperimentConfig c = config();
        List<Integer> budgets = DenseExtension.budgets(List.of(700, 300, 0, 1700, 300, 500));
        assertEquals(List.of(300, 500, 700, 1700), budgets, "distinct positive budgets, ascending");
        List<DenseExtension.Branch> branches = DenseExtension.branches(budgets, 0.2);
        int trunk = DenseExtension.trunkSteps(branches);
        assertEquals(1700 - 340, trunk, "the trunk runs to the last branch point");
        TrainingSchedule trunkSchedule = DenseExtension.trunk(c, trunk);
        for (int step = 0; step < trunk; step++) {
            assertEquals(0.05f, trunkSchedule.learningRate(step), "the trunk holds the re-warmed rate at step " + step);
        }
        for (DenseExtension.Branch b : branches) {
            assertEquals(b.budget(), b.from() + b.cooldown(), "trunk steps + cooldown steps = budget: " + b);
            assertEquals(Math.round(0.2 * b.budget()), b.cooldown(), b.toString());
            assertTrue(b.from() <= trunk, "branches off the trunk it shares: " + b);
            TrainingSchedule cool = DenseExtension.cooldown(c, b);
            assertEquals(b.cooldown(), cool.totalSteps());
            assertEquals(0.05f, cool.learningRate(0), 1e-9f, "starts at the trunk's rate");
            assertEquals(0f, cool.learningRate(cool.totalSteps() - 1), 0f, "annealed to 0: " + b);
            for (int step = 1; step < cool.totalSteps(); step++) {
                assertTrue(cool.learningRate(step) < cool.learningRate(step - 1), "decays monotonically");
            }
        }
    }

    @Test
    void cooldownOfOneTrainsEveryControlAloneFromTheDenseModel() {
        List<DenseExtension.Branch> branches = DenseExtension.branches(List.of(1, 40, 900), 1.0);
        branches.forEach(b -> assertEquals(0, b.from(), b.toString()));
        assertEquals(0, DenseExtension.trunkSteps(branches));
        // A one-step budget at any fraction still gets one cooldown step.
        assertEquals(new DenseExtension.Branch(1, 0, 1), DenseExtension.branches(List.of(1), 0.05).get(0));
    }

    @Test
    void branchesOfDifferentBudgetsHaveTheirOwnSeeds() {
        ExperimentConfig c = config();
        List<DenseExtension.Branch> branches = DenseExtension.branches(List.of(300, 500), 0.2);
        long trunk = DenseExtension.trunkSettings(c).seed();
        long a = DenseExtension.branchSettings(c, branches.get(0)).seed();
        long b = DenseExtension.branchSettings(c, branches.get(1)).seed();
        assertTrue(trunk != a && trunk != b && a != b, trunk + " " + a + " " + b);
        assertEquals(c.upstream.batchSize, DenseExtension.trunkSettings(c).batchSize(), "the dense recipe's batch");
    }

    @Test
    void aCooldownOutsideZeroToOneIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> DenseExtension.branches(List.of(100), 0));
        assertThrows(IllegalArgumentException.class, () -> DenseExtension.branches(List.of(100), 1.5));
    }
}
