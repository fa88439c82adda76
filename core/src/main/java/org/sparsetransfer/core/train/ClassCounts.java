package org.sparsetransfer.core.train;

import java.io.Serializable;
import java.util.Arrays;

/**
 * Per class, how many examples an evaluation saw and how many it predicted right: what the
 * evaluations of a split's parts (Spark tasks) sum into the split's {@link Scores}, top-1 and
 * mean-per-class alike, exactly as one evaluation of the whole split would give them.
 */
public final class ClassCounts implements Serializable {
    private static final long serialVersionUID = 1L;
    private long[] correct;
    private long[] seen;

    private ClassCounts(int numClasses) {
        correct = new long[numClasses];
        seen = new long[numClasses];
    }

    /** Nothing counted yet, of no known class count (a sum's zero: it takes the classes of what is merged in). */
    public static ClassCounts empty() {
        return new ClassCounts(0);
    }

    /** The counts of {@code predicted} against {@code truth} over {@code numClasses} classes. */
    public static ClassCounts of(int[] predicted, int[] truth, int numClasses) {
        if (predicted.length != truth.length) {
            throw new IllegalArgumentException(predicted.length + " predictions for " + truth.length + " labels");
        }
        ClassCounts counts = new ClassCounts(numClasses);
        for (int i = 0; i < truth.length; i++) {
            counts.seen[truth[i]]++;
            if (predicted[i] == truth[i]) {
                counts.correct[truth[i]]++;
            }
        }
        return counts;
    }

    /** Adds {@code other}'s counts to these (in place) and returns this. */
    public ClassCounts merge(ClassCounts other) {
        if (seen.length == 0) {
            correct = other.correct.clone();
            seen = other.seen.clone();
            return this;
        }
        if (other.seen.length != 0 && other.seen.length != seen.length) {
            throw new IllegalArgumentException("counts of " + other.seen.length + " classes cannot be added to counts of " + seen.length);
        }
        for (int c = 0; c < other.seen.length; c++) {
            correct[c] += other.correct[c];
            seen[c] += other.seen[c];
        }
        return this;
    }

    public long examples() {
        return Arrays.stream(seen).sum();
    }

    /** Top-1 over all examples and its mean over the classes that have examples. */
    public Scores scores() {
        long hits = Arrays.stream(correct).sum();
        long total = examples();
        double sum = 0;
        int classes = 0;
        for (int c = 0; c < seen.length; c++) {
            if (seen[c] > 0) {
                sum += (double) correct[c] / seen[c];
                classes++;
            }
        }
        return new Scores(total == 0 ? 0 : (double) hits / total, classes == 0 ? 0 : sum / classes, total);
    }
}
