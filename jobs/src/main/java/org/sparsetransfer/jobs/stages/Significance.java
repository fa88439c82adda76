package org.sparsetransfer.jobs.stages;

import org.apache.commons.math3.stat.inference.TTest;

/** Welch's t-test (unequal variances), from Commons Math as Spark already brings it. */
final class Significance {
    private Significance() {}

    /** Two-sided p-value that {@code a} and {@code b} have the same mean; null when it is undefined. */
    static Double welchP(double[] a, double[] b) {
        if (a.length < 2 || b.length < 2 || variance(a) + variance(b) == 0) {
            return null;
        }
        double p = new TTest().tTest(a, b);
        return Double.isNaN(p) ? null : p;
    }

    private static double variance(double[] x) {
        return new org.apache.commons.math3.stat.descriptive.moment.Variance().evaluate(x);
    }
}
