package org.sparsetransfer.core.prune;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.StringJoiner;
import org.sparsetransfer.core.InvalidInputException;
import org.sparsetransfer.core.model.Tensor;
import org.sparsetransfer.core.model.Weights;

/**
 * N:M semi-structured sparsity (Hubara et al. 2021, "Accelerated Sparse Neural Training: A
 * Provable and Efficient Method to Find N:M Transposable Masks"; NVIDIA's 2:4 on Ampere): every
 * group of M consecutive weights along a tensor's input dimension keeps exactly N of them.
 *
 * <p>In DJL's layouts (conv [out, in/groups, kh, kw], linear [out, in]) each output unit's
 * weights are one row of length prod(shape[1..]) in the row-major array, so the groups are
 * simply consecutive runs of M in the flat values whenever the row length is a multiple of M.
 */
public final class NmSparsity {
    /** How far sparsity * M may sit from a whole number and still count as one (decimal input like 0.75). */
    private static final double WHOLE_TOLERANCE = 1e-9;
    /** Beyond this group size the allowed sparsities are described rather than listed. */
    private static final int LISTED_UP_TO = 16;

    private NmSparsity() {}

    /**
     * Refuses a target the pattern cannot meet: groups of fewer than 2, a sparsity outside (0, 1),
     * or one that does not prune a whole number of weights per group.
     *
     * @param where what asked for it (a config key, a method), named in the message
     */
    public static void requireTarget(double sparsity, int groupSize, String where) {
        if (groupSize < 2) {
            throw new InvalidInputException("N:M group size for " + where + " must be at least 2, got " + groupSize);
        }
        double prunedPerGroup = sparsity * groupSize;
        if (!(sparsity > 0 && sparsity < 1) || Math.abs(prunedPerGroup - Math.rint(prunedPerGroup)) > WHOLE_TOLERANCE) {
            throw new InvalidInputException("N:M sparsity " + sparsity + " for " + where + " does not prune a whole number of"
                    + " weights in every group of " + groupSize + "; allowed sparsities are " + allowed(groupSize)
                    + " for M = " + groupSize);
        }
    }

    /** How many weights each group keeps: N = M - s*M (assumes {@link #requireTarget} passed). */
    public static int keptPerGroup(double sparsity, int groupSize) {
        return groupSize - (int) Math.round(sparsity * groupSize);
    }

    /**
     * Why a tensor of this shape cannot take the pattern, or null if it can: it is not a matrix
     * (biases, norms), a depthwise convolution (one input channel per filter, so a row is only
     * kh x kw; a one-channel input's first conv reads the same and is as small), or its input
     * size is not a multiple of M.
     */
    public static String exclusion(long[] shape, int groupSize) {
        if (groupSize < 2) {
            throw new IllegalArgumentException("group size must be at least 2, got " + groupSize);
        }
        if (shape.length < 2) {
            return "not a matrix";
        }
        if (shape.length == 4 && shape[1] == 1) {
            return "depthwise convolution";
        }
        long input = inputSize(shape);
        if (input % groupSize != 0) {
            return "input size " + input + " is not a multiple of " + groupSize;
        }
        return null;
    }

    /**
     * The N:M mask over {@code current}'s tensors: in each group the N weights of largest |w|
     * stay, weights {@code current} already prunes ranking below every kept one (score -1), ties
     * keeping the lower index. Tensors {@link #exclusion} rules out keep their current bits.
     */
    public static Mask prune(Weights weights, Mask current, double sparsity, int groupSize) {
        requireTarget(sparsity, groupSize, "N:M pruning");
        int keep = keptPerGroup(sparsity, groupSize);
        Map<String, boolean[]> next = new LinkedHashMap<>();
        for (String name : current.tensorNames()) {
            Tensor tensor = weights.get(name);
            boolean[] bits = current.bitsUnsafe(name);
            requireSameSize(name, tensor, bits);
            next.put(name, exclusion(tensor.shape(), groupSize) == null
                    ? keepLargestPerGroup(tensor.values(), bits, groupSize, keep)
                    : bits);
        }
        return new Mask(next);
    }

    /** Whether every group of every eligible tensor of {@code mask} keeps exactly N = (1-s)*M weights. */
    public static boolean holds(Mask mask, Weights weights, double sparsity, int groupSize) {
        requireTarget(sparsity, groupSize, "N:M check");
        int keep = keptPerGroup(sparsity, groupSize);
        for (String name : mask.tensorNames()) {
            Tensor tensor = weights.get(name);
            boolean[] bits = mask.bitsUnsafe(name);
            requireSameSize(name, tensor, bits);
            if (exclusion(tensor.shape(), groupSize) != null) {
                continue;
            }
            for (int start = 0; start < bits.length; start += groupSize) {
                int kept = 0;
                for (int i = start; i < start + groupSize; i++) {
                    kept += bits[i] ? 1 : 0;
                }
                if (kept != keep) {
                    return false;
                }
            }
        }
        return true;
    }

    /** prod(shape[1..]): one output unit's input size. */
    static long inputSize(long[] shape) {
        long n = 1;
        for (int d = 1; d < shape.length; d++) {
            n = Math.multiplyExact(n, shape[d]);
        }
        return n;
    }

    private static boolean[] keepLargestPerGroup(float[] values, boolean[] current, int groupSize, int keep) {
        boolean[] next = new boolean[values.length];
        long[] order = new long[groupSize];
        for (int start = 0; start < values.length; start += groupSize) {
            for (int j = 0; j < groupSize; j++) {
                int key = MagnitudePruner.Scores.key(values[start + j], current[start + j]);
                // Ascending order of (-key, j) is descending score, lower index first on ties:
                // -key lies in [-(2^31 - 1), 1], so it fits the high half, and j the low half.
                order[j] = ((long) -key << 32) | j;
            }
            Arrays.sort(order);
            for (int r = 0; r < keep; r++) {
                next[start + (int) order[r]] = true;
            }
        }
        return next;
    }

    private static void requireSameSize(String name, Tensor tensor, boolean[] bits) {
        if (tensor.size() != bits.length) {
            throw new IllegalArgumentException("mask for " + name + " has " + bits.length + " bits, tensor has " + tensor.size());
        }
    }

    private static String allowed(int groupSize) {
        if (groupSize > LISTED_UP_TO) {
            return "the multiples of 1/" + groupSize + " strictly between 0 and 1";
        }
        StringJoiner list = new StringJoiner(", ");
        for (int pruned = 1; pruned < groupSize; pruned++) {
            list.add(BigDecimal.valueOf(pruned).divide(BigDecimal.valueOf(groupSize), 4, RoundingMode.HALF_EVEN)
                    .stripTrailingZeros().toPlainString());
        }
        return list.toString();
    }
}
