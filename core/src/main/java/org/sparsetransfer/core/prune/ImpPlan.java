package org.sparsetransfer.core.prune;

import java.util.ArrayList;
import java.util.List;

/**
 * Round plan of iterative magnitude pruning. Each round prunes a fraction of the remaining
 * weights; between two consecutive targets the rounds are uniform, p = 1 - (r)^(1/R) with r the
 * remaining-weight ratio of that segment and R chosen so p is close to the requested fraction,
 * so the last round of each segment lands exactly on its target.
 */
public final class ImpPlan {
    private ImpPlan() {}

    /** The sparsity after each round of the segment from {@code from} to {@code target}. */
    public static double[] segment(double from, double target, double pruneFraction) {
        if (!(target > from && target < 1 && from >= 0)) {
            throw new IllegalArgumentException("IMP segment must go up from " + from + " to a target below 1, got " + target);
        }
        if (!(pruneFraction > 0 && pruneFraction < 1)) {
            throw new IllegalArgumentException("prune fraction must be in (0, 1), got " + pruneFraction);
        }
        double remaining = (1 - target) / (1 - from);
        int rounds = (int) Math.max(1, Math.round(Math.log(remaining) / Math.log(1 - pruneFraction)));
        double keepPerRound = Math.pow(remaining, 1.0 / rounds);
        double[] sparsities = new double[rounds];
        for (int i = 1; i <= rounds; i++) {
            sparsities[i - 1] = 1 - (1 - from) * Math.pow(keepPerRound, i);
        }
        sparsities[rounds - 1] = target; // exactly, whatever the rounding above
        return sparsities;
    }

    /** All rounds from dense through every target (ascending), one list per target. */
    public static List<double[]> plan(List<Double> targets, double pruneFraction) {
        List<Double> sorted = targets.stream().distinct().sorted().toList();
        List<double[]> segments = new ArrayList<>();
        double from = 0;
        for (double target : sorted) {
            segments.add(segment(from, target, pruneFraction));
            from = target;
        }
        return segments;
    }
}
