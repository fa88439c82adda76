package org.sparsetransfer.core.train;

import java.io.Serializable;

/** Accuracy of predictions on a labelled set, in [0, 1]. */
public record Scores(double top1, double meanPerClass, long examples) implements Serializable {

    /** Scores from predicted and true labels; classes absent from {@code truth} are left out of the mean. */
    public static Scores of(int[] predicted, int[] truth, int numClasses) {
        return ClassCounts.of(predicted, truth, numClasses).scores();
    }
}
