package org.sparsetransfer.core.transfer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.sparsetransfer.core.data.Sampling;

/**
 * How a task's training split is divided to choose settings (a linear probe's penalty, a learning
 * rate) without its test split, which is never used to choose anything: a stratified hold-out of
 * {@code fraction} of every class, or, for tasks too small for one (a class with fewer than
 * {@code minPerClass} training examples: few-shot tasks), stratified k-fold cross-validation over
 * the training examples. Seeded: the same labels and seed give the same folds.
 */
public record Validation(List<Fold> folds, boolean crossValidated) {
    /** One way to hold out: train on {@code train}, score on {@code validation} (example indices of the training split). */
    public record Fold(long[] train, long[] validation) {}

    /** The hold-out share, the smallest class that gets one, and the folds otherwise. */
    public record Settings(double fraction, int minPerClass, int folds) {}

    public static Validation of(int[] labels, int classes, Settings settings, long seed) {
        int[] counts = new int[classes];
        for (int label : labels) {
            counts[label]++;
        }
        int[][] byClass = new int[classes][];
        for (int c = 0; c < classes; c++) {
            byClass[c] = new int[counts[c]];
            counts[c] = 0;
        }
        for (int i = 0; i < labels.length; i++) {
            byClass[labels[i]][counts[labels[i]]++] = i;
        }
        SplittableRandom random = new SplittableRandom(seed);
        int smallest = Integer.MAX_VALUE;
        for (int[] members : byClass) {
            Sampling.shuffle(members, random);
            if (members.length > 0) {
                smallest = Math.min(smallest, members.length);
            }
        }
        if (smallest == Integer.MAX_VALUE) {
            throw new IllegalArgumentException("no training examples to validate on");
        }
        if (smallest >= settings.minPerClass()) {
            List<Long> train = new ArrayList<>();
            List<Long> validation = new ArrayList<>();
            for (int[] members : byClass) {
                int held = (int) Math.max(1, Math.min(members.length - 1, Math.round(settings.fraction() * members.length)));
                for (int i = 0; i < members.length; i++) {
                    (i < held ? validation : train).add((long) members[i]);
                }
            }
            return new Validation(List.of(new Fold(sorted(train), sorted(validation))), false);
        }
        int k = Math.max(2, Math.min(settings.folds(), smallest));
        List<List<Long>> parts = new ArrayList<>();
        for (int f = 0; f < k; f++) {
            parts.add(new ArrayList<>());
        }
        int next = 0;
        for (int[] members : byClass) {
            for (int member : members) { // round-robin continues across classes, so folds stay balanced in size
                parts.get(next++ % k).add((long) member);
            }
        }
        List<Fold> folds = new ArrayList<>();
        for (int f = 0; f < k; f++) {
            List<Long> train = new ArrayList<>();
            for (int g = 0; g < k; g++) {
                if (g != f) {
                    train.addAll(parts.get(g));
                }
            }
            folds.add(new Fold(sorted(train), sorted(parts.get(f))));
        }
        return new Validation(List.copyOf(folds), true);
    }

    /** In words, for logs: "a 20% hold-out (300 examples)" or "5-fold cross-validation". */
    public String describe() {
        return crossValidated ? folds.size() + "-fold cross-validation on the training examples"
                : "a hold-out of " + folds.get(0).validation().length + " training examples";
    }

    private static long[] sorted(List<Long> indices) {
        long[] out = indices.stream().mapToLong(Long::longValue).toArray();
        Arrays.sort(out);
        return out;
    }
}
