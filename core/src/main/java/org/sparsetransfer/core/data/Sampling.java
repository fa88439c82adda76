package org.sparsetransfer.core.data;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/** Seeded index sampling: the same seed always yields the same split. */
public final class Sampling {
    private Sampling() {}

    /** A seeded permutation of 0..n-1 (Fisher-Yates). */
    public static int[] permutation(int n, long seed) {
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        shuffle(order, new SplittableRandom(seed));
        return order;
    }

    public static void shuffle(int[] values, SplittableRandom random) {
        for (int i = values.length - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int tmp = values[i];
            values[i] = values[j];
            values[j] = tmp;
        }
    }

    /** Splits a seeded permutation of 0..n-1 into its first {@code first} indices and the rest. */
    public static int[][] split(int n, int first, long seed) {
        if (first < 0 || first > n) {
            throw new IllegalArgumentException("cannot take " + first + " of " + n + " examples");
        }
        int[] order = permutation(n, seed);
        int[] a = new int[first];
        int[] b = new int[n - first];
        System.arraycopy(order, 0, a, 0, first);
        System.arraycopy(order, first, b, 0, n - first);
        return new int[][] {a, b};
    }

    /**
     * Per class, the first {@code perClass} examples of a seeded permutation (fewer if a class is
     * smaller); returned in permutation order.
     */
    public static int[] perClass(int[] labels, int numClasses, int perClass, long seed) {
        int[] taken = new int[numClasses];
        List<Integer> chosen = new ArrayList<>();
        for (int index : permutation(labels.length, seed)) {
            if (taken[labels[index]] < perClass) {
                taken[labels[index]]++;
                chosen.add(index);
            }
        }
        return chosen.stream().mapToInt(Integer::intValue).toArray();
    }

    /** A class-stratified split: {@code fraction} of each class goes to the first part. */
    public static int[][] stratifiedSplit(int[] labels, int numClasses, double fraction, long seed) {
        int[] counts = new int[numClasses];
        for (int label : labels) {
            counts[label]++;
        }
        int[] quota = new int[numClasses];
        for (int c = 0; c < numClasses; c++) {
            quota[c] = (int) Math.round(counts[c] * fraction);
        }
        List<Integer> first = new ArrayList<>();
        List<Integer> rest = new ArrayList<>();
        for (int index : permutation(labels.length, seed)) {
            if (quota[labels[index]] > 0) {
                quota[labels[index]]--;
                first.add(index);
            } else {
                rest.add(index);
            }
        }
        return new int[][] {
            first.stream().mapToInt(Integer::intValue).toArray(), rest.stream().mapToInt(Integer::intValue).toArray()
        };
    }
}
