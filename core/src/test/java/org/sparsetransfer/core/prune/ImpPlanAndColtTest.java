package org.sparsetransfer.core.prune;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.sparsetransfer.core.Synthetic;
import org.sparsetransfer.core.data.ImageSet;
import org.sparsetransfer.core.model.Weights;

class ImpPlanAndColtTest {
    private final MagnitudePruner global = new MagnitudePruner(MagnitudePruner.Scope.GLOBAL);

    @Test
    void impRoundsLandExactlyOnEveryTarget() {
        List<double[]> plan = ImpPlan.plan(List.of(0.9, 0.8, 0.95), 0.2);
        assertEquals(3, plan.size());
        double[] lastOfEach = {plan.get(0)[plan.get(0).length - 1], plan.get(1)[plan.get(1).length - 1],
            plan.get(2)[plan.get(2).length - 1]};
        assertArrayEquals(new double[] {0.8, 0.9, 0.95}, lastOfEach, 0.0);
        double previous = 0;
        for (double[] segment : plan) {
            double from = previous;
            for (double s : segment) {
                double pruned = (s - from) / (1 - from); // fraction of the remaining weights this round prunes
                assertTrue(pruned > 0.1 && pruned < 0.3, "round prunes " + pruned + " of the remaining");
                from = s;
            }
            previous = segment[segment.length - 1];
        }
        // (1 - 0.2)^7 = 0.21: seven uniform rounds reach 0.8 from dense
        assertEquals(7, plan.get(0).length);
    }

    @Test
    void uniformRoundsFollowTheClosedForm() {
        double[] rounds = ImpPlan.segment(0, 0.9, 1 - Math.pow(0.1, 1.0 / 4));
        assertEquals(4, rounds.length);
        double p = 1 - Math.pow(0.1, 0.25);
        for (int r = 1; r <= 4; r++) {
            assertEquals(1 - Math.pow(1 - p, r), rounds[r - 1], 1e-12);
        }
    }

    private final Weights a = new Weights(Map.of("w", Synthetic.gaussian(1, 200, 50)));
    private final Weights b = new Weights(Map.of("w", Synthetic.gaussian(2, 200, 50)));
    private final Mask dense = Mask.dense(a, Set.of("w"));

    @Test
    void intersectionKeepsOnlyWhatEveryModelKept() {
        Mask shared = Colt.intersect(List.of(a, b), dense, 0.15, global);
        Mask ownA = global.prune(a, dense, 0.15);
        Mask ownB = global.prune(b, dense, 0.15);
        assertEquals(ownA.intersect(ownB), shared);
        assertTrue(shared.sparsity() >= 0.15 && shared.sparsity() <= 0.30, "sparsity " + shared.sparsity());
        // The next round never revives a weight.
        Mask next = Colt.intersect(List.of(b, a), shared, 0.15, global);
        assertEquals(next, next.intersect(shared));
    }

    @Test
    void aCrossingRoundIsBisectedOntoTheTarget() {
        Mask shared = Colt.intersect(List.of(a, b), dense, 0.3, global);
        double target = shared.sparsity() + 0.1;
        Colt.Round round = Colt.round(List.of(a, b), shared, 0.5, target, 0.005, global);
        assertEquals(target, round.mask().sparsity(), 0.005);
        assertTrue(round.pruneFraction() < 0.5);
        Colt.Round uncrossed = Colt.round(List.of(a, b), shared, 0.05, 0.99, 0.005, global);
        assertEquals(0.05, uncrossed.pruneFraction());
    }

    @Test
    void classSegmentsAreDisjointAndRelabelled() {
        ImageSet train = Synthetic.squares("t", 500, 9, 3, 0);
        List<org.sparsetransfer.core.data.ImageSource> parts = Colt.segments(train, 2, true, 0);
        assertEquals(4, parts.get(0).numClasses());
        assertEquals(5, parts.get(1).numClasses());
        assertEquals(train.size(), parts.get(0).size() + parts.get(1).size());
        int[] counts = train.classCounts();
        assertEquals(counts[4] + counts[5] + counts[6] + counts[7] + counts[8], parts.get(1).size());
        assertEquals(counts[4], parts.get(1).classCounts()[0], "class 4 becomes label 0 of segment 1");
        List<org.sparsetransfer.core.data.ImageSource> random = Colt.segments(train, 2, false, 0);
        assertEquals(9, random.get(0).numClasses());
        assertEquals(250, random.get(0).size());
    }
}
