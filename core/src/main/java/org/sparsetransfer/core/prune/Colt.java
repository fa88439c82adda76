package org.sparsetransfer.core.prune;

import java.util.ArrayList;
import java.util.List;
import org.sparsetransfer.core.data.ImageSet;
import org.sparsetransfer.core.data.ImageSource;
import org.sparsetransfer.core.data.Sampling;
import org.sparsetransfer.core.model.Weights;

/**
 * Cyclic Overlapping Lottery Tickets (Hossain et al.): the mask arithmetic of a round. K models
 * trained on K data segments each prune a fraction q of the weights the shared mask keeps; a
 * weight survives only if every model kept it.
 */
public final class Colt {
    private static final int BISECTION_STEPS = 60;

    private Colt() {}

    /** The shared mask after every model prunes {@code q} of the remaining weights. */
    public static Mask intersect(List<Weights> models, Mask shared, double q, MagnitudePruner pruner) {
        double modelSparsity = shared.sparsity() + q * (1 - shared.sparsity());
        Mask result = null;
        for (Weights model : models) {
            Mask own = pruner.prune(model, shared, Math.min(modelSparsity, Math.nextDown(1.0)));
            result = result == null ? own : result.intersect(own);
        }
        return result;
    }

    /** A round's outcome: the new shared mask and the fraction each model pruned. */
    public record Round(Mask mask, double pruneFraction) {}

    /**
     * The round that lands on {@code target}: if pruning {@code q} would overshoot it, bisect the
     * fraction for the intersected mask closest to the target (sparsity grows monotonically with
     * the fraction), which must be within {@code tolerance}. A round that stops short of the
     * target is returned as it is; the caller counts it as landed if within the tolerance.
     */
    public static Round round(List<Weights> models, Mask shared, double q, double target, double tolerance,
            MagnitudePruner pruner) {
        Mask full = intersect(models, shared, q, pruner);
        if (full.sparsity() <= target) {
            return new Round(full, q);
        }
        // Bisect for the closest landing; one element of the mask is as close as it gets.
        double resolution = 1.0 / shared.size();
        double lo = 0;
        double hi = q;
        Round best = new Round(full, q);
        for (int i = 0; i < BISECTION_STEPS && Math.abs(best.mask().sparsity() - target) > resolution; i++) {
            double mid = (lo + hi) / 2;
            Mask m = intersect(models, shared, mid, pruner);
            if (Math.abs(m.sparsity() - target) < Math.abs(best.mask().sparsity() - target)) {
                best = new Round(m, mid);
            }
            if (m.sparsity() > target) {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        if (Math.abs(best.mask().sparsity() - target) > tolerance) {
            throw new IllegalStateException(String.format(
                    "COLT could not land within %.4f of sparsity %.4f (closest %.4f)", tolerance, target, best.mask().sparsity()));
        }
        return best;
    }

    /**
     * The upstream training set split into {@code k} segments: by disjoint class ranges (labels
     * renumbered from 0 within each), or a seeded random split of the examples over all classes.
     */
    public static List<ImageSource> segments(ImageSet train, int k, boolean byClasses, long seed) {
        List<ImageSource> segments = new ArrayList<>();
        List<int[]> members = segmentMembers(train.labels(), train.numClasses(), k, byClasses, seed);
        for (int i = 0; i < k; i++) {
            segments.add(asSegment(train.subset(train.name() + "/" + segmentName(train.numClasses(), k, byClasses, i), members.get(i)),
                    k, byClasses, i));
        }
        return segments;
    }

    /**
     * Which examples (positions in the stored order of a split with these labels) each of the
     * {@code k} segments holds, in segment order; needs the labels only, so a worker can pick its
     * rows of a segment before reading any image.
     */
    public static List<int[]> segmentMembers(int[] labels, int numClasses, int k, boolean byClasses, long seed) {
        List<int[]> members = new ArrayList<>();
        if (byClasses) {
            for (int[] range : classRanges(numClasses, k)) {
                members.add(java.util.stream.IntStream.range(0, labels.length)
                        .filter(i -> labels[i] >= range[0] && labels[i] < range[1]).toArray());
            }
        } else {
            int[] order = Sampling.permutation(labels.length, seed);
            for (int i = 0; i < k; i++) {
                long from = (long) i * labels.length / k;
                long to = (long) (i + 1) * labels.length / k;
                members.add(java.util.Arrays.copyOfRange(order, (int) from, (int) to));
            }
        }
        return members;
    }

    /**
     * Examples of segment {@code index} (all of them, or a worker's share) as that segment's
     * training set: with class segments, labels renumbered from 0 within the segment's classes.
     * {@code part} must hold the full split's labels.
     */
    public static ImageSource asSegment(ImageSource part, int k, boolean byClasses, int index) {
        if (!byClasses) {
            return part;
        }
        int[] range = classRanges(part.numClasses(), k).get(index);
        int[] labels = part.labels().clone();
        for (int i = 0; i < labels.length; i++) {
            labels[i] -= range[0];
        }
        return part.relabelled(part.name(), range[1] - range[0], labels);
    }

    /** How many classes segment {@code index}'s head predicts: its range's with class segments, all of them otherwise. */
    public static int segmentClasses(int numClasses, int k, boolean byClasses, int index) {
        if (!byClasses) {
            return numClasses;
        }
        int[] range = classRanges(numClasses, k).get(index);
        return range[1] - range[0];
    }

    private static String segmentName(int numClasses, int k, boolean byClasses, int index) {
        if (!byClasses) {
            return "part" + index;
        }
        int[] range = classRanges(numClasses, k).get(index);
        return "classes" + range[0] + "-" + (range[1] - 1);
    }

    /** Contiguous class ranges for {@code k} segments, as even as possible: segment i holds classes [from, to). */
    public static List<int[]> classRanges(int numClasses, int k) {
        if (k < 1 || k > numClasses) {
            throw new IllegalArgumentException("cannot split " + numClasses + " classes into " + k + " segments");
        }
        List<int[]> ranges = new ArrayList<>();
        for (int i = 0; i < k; i++) {
            ranges.add(new int[] {i * numClasses / k, (i + 1) * numClasses / k});
        }
        return ranges;
    }
}
