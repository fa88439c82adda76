package org.sparsetransfer.core.prune;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class GmpScheduleTest {
    private final GmpSchedule star = GmpSchedule.star(0.9).warmupSteps(20).pruningSteps(4).interval(10)
            .recoverySteps(30).learningRate(0.1f, 0.01f).build();

    @Test
    void starJumpsToTheInitialSparsityThenFollowsTheCubic() {
        assertEquals(20 + 4 * 10 + 30, star.totalSteps());
        List<Double> events = new ArrayList<>();
        for (int step = 0; step < star.totalSteps(); step++) {
            star.pruneBefore(step).ifPresent(events::add);
        }
        assertEquals(5, events.size());
        assertEquals(0.7, events.get(0), 1e-12);
        assertEquals(0.9, events.get(4), 1e-12);
        // s_j = s_f + (s_i - s_f)(1 - j/n)^3 at j = 2 of 4
        assertEquals(0.9 + (0.7 - 0.9) * 0.125, events.get(2), 1e-12);
        for (int j = 1; j < events.size(); j++) {
            assertTrue(events.get(j) > events.get(j - 1));
        }
        assertFalse(star.pruneBefore(19).isPresent());
        assertTrue(star.pruneBefore(20).isPresent());
        assertFalse(star.pruneBefore(21).isPresent());
        assertFalse(star.pruneBefore(70).isPresent());
    }

    @Test
    void starRewarmsTheLearningRateAtEveryPruningStep() {
        for (int j = 0; j < 4; j++) {
            int step = star.eventStep(j);
            assertEquals(0.1f, star.learningRate(step), 1e-7, "re-warmed at event " + j);
            assertTrue(star.learningRate(step + 9) < star.learningRate(step + 1), "decays within the interval");
        }
        assertEquals(0.1f, star.learningRate(60), 1e-7, "recovery starts at the maximum");
        assertTrue(star.learningRate(89) < 0.01f, "and decays towards zero");
    }

    @Test
    void initialSparsityIsCappedAtTheTarget() {
        GmpSchedule low = GmpSchedule.star(0.5).pruningSteps(3).interval(5).build();
        assertEquals(0.5, low.pruneBefore(0).getAsDouble(), 1e-12);
        assertEquals(0.5, low.sparsityAtEvent(3), 1e-12);
    }

    @Test
    void classicGmpStartsFromZeroWithoutRewarming() {
        GmpSchedule classic = GmpSchedule.classic(0.8).pruningSteps(4).interval(10).recoverySteps(10)
                .learningRate(0.1f, 0f).build();
        assertFalse(classic.pruneBefore(0).isPresent(), "sparsity 0 at the first step: nothing to prune");
        assertEquals(0.8 * (1 - Math.pow(0.75, 3)), classic.pruneBefore(10).getAsDouble(), 1e-12);
        for (int step = 1; step < classic.totalSteps(); step++) {
            assertTrue(classic.learningRate(step) < classic.learningRate(step - 1));
        }
    }

    @Test
    void oneShotPrunesOnceBeforeTheFirstStep() {
        OneShotSchedule oneShot = new OneShotSchedule(0.9, 50, (step, total) -> 0.01f);
        assertEquals(0.9, oneShot.pruneBefore(0).getAsDouble());
        assertFalse(oneShot.pruneBefore(1).isPresent());
        assertEquals(50, oneShot.totalSteps());
    }
}
