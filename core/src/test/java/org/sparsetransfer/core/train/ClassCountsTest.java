package org.sparsetransfer.core.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Per-class counts of a split's parts sum to the scores of the whole split, exactly. */
class ClassCountsTest {
    @Test
    void partsSumToTheWholeSplitsScoresInAnyOrder() {
        Random random = new Random(3);
        int n = 1_003;
        int classes = 11;
        int[] truth = random.ints(n, 0, classes - 1).toArray(); // class 10 has no examples: left out of the mean
        int[] predicted = Arrays.stream(truth).map(t -> random.nextInt(3) == 0 ? t : random.nextInt(classes)).toArray();
        Scores whole = Scores.of(predicted, truth, classes);
        assertEquals(n, whole.examples());
        assertTrue(whole.top1() > 0.3 && whole.top1() < 0.5, whole.toString());
        assertTrue(whole.meanPerClass() != whole.top1(), "unbalanced classes make the two metrics differ");

        for (int parts : new int[] {1, 2, 7}) {
            ClassCounts sum = ClassCounts.empty();
            for (int p = parts - 1; p >= 0; p--) { // summed in reverse, as a tree aggregate may
                int[] rows = DataParallelPlan.shard(n, parts, p);
                sum.merge(ClassCounts.of(Arrays.stream(rows).map(i -> predicted[i]).toArray(), Arrays.stream(rows).map(i -> truth[i]).toArray(),
                        classes));
            }
            assertEquals(whole, sum.scores(), parts + " parts");
        }
        assertEquals(new Scores(0, 0, 0), ClassCounts.empty().scores());
        // A hand-checked case: class 0 is 1 of 2 right, class 1 is 1 of 1 right; top-1 2/3, mean (0.5 + 1) / 2.
        assertEquals(new Scores(2.0 / 3, 0.75, 3), Scores.of(new int[] {0, 1, 1}, new int[] {0, 0, 1}, 2));
    }

    @Test
    void countsOfDifferentClassCountsDoNotAdd() {
        ClassCounts three = ClassCounts.of(new int[] {0}, new int[] {0}, 3);
        assertThrows(IllegalArgumentException.class, () -> three.merge(ClassCounts.of(new int[] {0}, new int[] {0}, 4)));
        assertThrows(IllegalArgumentException.class, () -> ClassCounts.of(new int[] {0, 1}, new int[] {0}, 3));
    }
}
