package org.sparsetransfer.core.prune;

import java.util.LinkedHashMap;
import java.util.Map;
import org.sparsetransfer.core.model.Weights;

/**
 * One RigL connectivity update (Evci et al. 2020, "Rigging the Lottery: Making All Tickets
 * Winners", Algorithm 1): in each masked tensor, drop the active weights of smallest magnitude
 * and grow as many inactive ones with the largest gradient magnitude, so each tensor's active
 * count is unchanged.
 */
public final class RigLUpdate {
    /**
     * The mask after the update, and the connections it activated ({@code grown}: inactive
     * before, active after), whose weights and optimizer momentum the caller zeroes, since
     * RigL's regrown connections start at zero.
     */
    public record Update(Mask mask, Mask grown) {}

    private RigLUpdate() {}

    /**
     * RigL's cosine-annealed drop fraction: alpha/2 * (1 + cos(pi * step / endStep)), and 0 from
     * {@code endStep} on (no updates after it).
     */
    public static double dropFraction(double alpha, long step, long endStep) {
        if (step < 0) {
            throw new IllegalArgumentException("step must be non-negative, got " + step);
        }
        if (step >= endStep) {
            return 0;
        }
        return alpha / 2 * (1 + Math.cos(Math.PI * step / endStep));
    }

    /**
     * Drops and regrows {@code floor(fraction * a_l)} connections in each of {@code mask}'s
     * tensors with a_l active: floor, as the reference code's float-to-int cast truncates
     * (google-research/rigl, sparse_optimizers._get_update_op and rigl_tf2 generic_mask_update).
     * Drop: the smallest |w| among the active, higher index first on ties. Grow: the largest
     * |gradient| among all weights outside the mask that remains after the drop, so a weight
     * just dropped may come straight back (as in the reference), lower index first on ties.
     */
    public static Update update(Weights weights, Weights gradients, Mask mask, double fraction) {
        if (!(fraction >= 0 && fraction <= 1)) {
            throw new IllegalArgumentException("drop fraction must be in [0, 1], got " + fraction);
        }
        Map<String, boolean[]> next = new LinkedHashMap<>();
        Map<String, boolean[]> grown = new LinkedHashMap<>();
        for (String name : mask.tensorNames()) {
            boolean[] before = mask.bitsUnsafe(name);
            float[] w = weights.get(name).values();
            float[] g = gradients.get(name).values();
            if (w.length != before.length || g.length != before.length) {
                throw new IllegalArgumentException("tensor " + name + ": mask has " + before.length + " bits, weights "
                        + w.length + " values, gradients " + g.length);
            }
            long active = 0;
            for (boolean b : before) {
                active += b ? 1 : 0;
            }
            int swaps = (int) Math.floor(fraction * active);
            boolean[] after = before.clone();
            drop(after, w, swaps);
            grow(after, g, swaps);
            boolean[] fresh = new boolean[after.length];
            for (int i = 0; i < after.length; i++) {
                fresh[i] = after[i] && !before[i];
            }
            next.put(name, after);
            grown.put(name, fresh);
        }
        return new Update(new Mask(next), new Mask(grown));
    }

    /** Deactivates the {@code count} active positions of smallest |w|; ties go from the highest index down. */
    private static void drop(boolean[] active, float[] w, int count) {
        if (count == 0) {
            return;
        }
        int threshold = kthSmallestKey(active, true, w, count - 1);
        int remaining = count;
        // Everything strictly below the threshold goes (fewer than count), then ties from the top.
        for (int i = 0; i < w.length; i++) {
            if (active[i] && key(w[i]) < threshold) {
                active[i] = false;
                remaining--;
            }
        }
        for (int i = w.length - 1; i >= 0 && remaining > 0; i--) {
            if (active[i] && key(w[i]) == threshold) {
                active[i] = false;
                remaining--;
            }
        }
    }

    /** Activates the {@code count} inactive positions of largest |g|; ties go from the lowest index up. */
    private static void grow(boolean[] active, float[] g, int count) {
        if (count == 0) {
            return;
        }
        int candidates = 0;
        for (boolean a : active) {
            candidates += a ? 0 : 1;
        }
        // The count-th largest candidate key: fewer than count lie above it.
        int threshold = kthSmallestKey(active, false, g, candidates - count);
        int remaining = count;
        boolean[] wasActive = active.clone();
        for (int i = 0; i < g.length; i++) {
            if (!wasActive[i] && key(g[i]) > threshold) {
                active[i] = true;
                remaining--;
            }
        }
        for (int i = 0; i < g.length && remaining > 0; i++) {
            if (!wasActive[i] && key(g[i]) == threshold) {
                active[i] = true;
                remaining--;
            }
        }
    }

    /** The k-th smallest (0-based) magnitude key among the positions whose bit equals {@code among}. */
    private static int kthSmallestKey(boolean[] bits, boolean among, float[] values, int k) {
        int n = 0;
        for (boolean b : bits) {
            n += b == among ? 1 : 0;
        }
        int[] keys = new int[n];
        int at = 0;
        for (int i = 0; i < bits.length; i++) {
            if (bits[i] == among) {
                keys[at++] = key(values[i]);
            }
        }
        return MagnitudePruner.kthSmallest(keys, k);
    }

    /** |v|'s bits, which order like |v| (NaN above infinity): compared as ints, as MagnitudePruner does. */
    private static int key(float v) {
        return MagnitudePruner.Scores.key(v, true);
    }
}
