package org.sparsetransfer.jobs.stages;

import java.util.BitSet;
import java.util.Comparator;
import org.apache.commons.math3.distribution.BinomialDistribution;
import org.apache.commons.math3.stat.descriptive.moment.Variance;
import org.apache.commons.math3.stat.inference.TTest;

/**
 * The report's tests, from Commons Math as Spark already brings it: Welch's t-test over seeds,
 * McNemar's exact test on paired test predictions, and Holm-Bonferroni's adjustment for many
 * comparisons.
 */
final class Significance {
    /** The two tests a cell's comparison may use. */
    static final String WELCH = "welch";
    static final String MCNEMAR = "mcnemar";

    private Significance() {}

    /** Two-sided p-value that {@code a} and {@code b} have the same mean; null when it is undefined. */
    static Double welchP(double[] a, double[] b) {
        if (!welchDefined(a, b)) {
            return null;
        }
        double p = new TTest().tTest(a, b);
        return Double.isNaN(p) ? null : p;
    }

    /** Whether Welch's test is defined: two seeds or more on each side, and some variance. */
    static boolean welchDefined(double[] a, double[] b) {
        return a.length >= 2 && b.length >= 2 && variance(a) + variance(b) > 0;
    }

    private static double variance(double[] x) {
        return new Variance().evaluate(x);
    }

    /**
     * McNemar's exact test: the two-sided p-value that two classifiers scored on the same {@code n}
     * test examples ({@code a} and {@code b}: a bit per example, set where it is right) are equally
     * accurate, from the examples exactly one of them gets right (binomial with p = 1/2).
     */
    static double mcnemarP(byte[] a, byte[] b, int n) {
        BitSet right = BitSet.valueOf(a);
        BitSet other = BitSet.valueOf(b);
        int onlyA = 0;
        int onlyB = 0;
        for (int i = 0; i < n; i++) {
            if (right.get(i) && !other.get(i)) {
                onlyA++;
            } else if (!right.get(i) && other.get(i)) {
                onlyB++;
            }
        }
        int discordant = onlyA + onlyB;
        if (discordant == 0) {
            return 1.0;
        }
        return Math.min(1.0, 2 * new BinomialDistribution(null, discordant, 0.5).cumulativeProbability(Math.min(onlyA, onlyB)));
    }

    /**
     * Holm-Bonferroni's adjusted p-values of one family of comparisons, in the input's order (a
     * null stays null and is not counted): the i-th smallest of m is multiplied by (m - i + 1),
     * made non-decreasing in that order, and capped at 1. Rejecting where the adjusted value is
     * below alpha keeps the family-wise error rate at alpha.
     */
    static Double[] holm(Double[] p) {
        Integer[] order = java.util.stream.IntStream.range(0, p.length).filter(i -> p[i] != null).boxed()
                .sorted(Comparator.comparingDouble(i -> p[i])).toArray(Integer[]::new);
        int m = order.length;
        Double[] adjusted = new Double[p.length];
        double running = 0;
        for (int rank = 0; rank < m; rank++) {
            running = Math.max(running, Math.min(1.0, (m - rank) * p[order[rank]]));
            adjusted[order[rank]] = running;
        }
        return adjusted;
    }
}
