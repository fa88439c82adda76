package org.sparsetransfer.jobs.bench;

import java.util.Arrays;

/**
 * Wall-clock timing of operations measured side by side: each repetition runs every operation
 * once, in turn, so a noisy moment of the machine falls on all of them; medians are reported.
 */
final class Timing {
    static final String DESCRIPTION = "- Times: medians of repetitions run side by side on one Java thread (each repetition runs "
            + "every measured operation once, in turn), after one untimed warm-up round.";

    /** Receives each result, so the JIT cannot drop the work that produced it. */
    private static volatile Object sink;

    private Timing() {}

    /** One timed operation; its result is kept so the JIT cannot drop the work. */
    @FunctionalInterface
    interface Operation {
        Object run() throws Exception;
    }

    /** Median seconds per operation over {@code repetitions}, after one untimed warm-up round. */
    static double[] medians(int repetitions, Operation... operations) throws Exception {
        double[][] seconds = new double[operations.length][repetitions];
        for (Operation op : operations) {
            sink = op.run();
        }
        for (int r = 0; r < repetitions; r++) {
            for (int o = 0; o < operations.length; o++) {
                long start = System.nanoTime();
                sink = operations[o].run();
                seconds[o][r] = (System.nanoTime() - start) / 1e9;
            }
        }
        double[] medians = new double[operations.length];
        for (int o = 0; o < operations.length; o++) {
            medians[o] = median(seconds[o]);
        }
        return medians;
    }

    static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }
}
