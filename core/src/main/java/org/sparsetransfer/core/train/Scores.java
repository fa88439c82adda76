package org.sparsetransfer.core.train;

import java.io.Serializable;

/** Accuracy of predictions on a labelled set, in [0, 1]. */
public record Scores(double top1, double meanPerClass, int examples) implements Serializable {

    /** Scores from predicted and true labels; classes absent from {@code truth} are left out of the mean. */
    public static Scores of(int[] predicted, int[] truth, int numClasses) {
        if (predicted.length != truth.length) {
            throw new IllegalArgumentException(predicted.length + " predictions for " + truth.length + " labels");
        }
        int[] correct = new int[numClasses];
        int[] seen = new int[numClasses];
        int hits = 0;
        for (int i = 0; i < truth.length; i++) {
            seen[truth[i]]++;
            if (predicted[i] == truth[i]) {
                correct[truth[i]]++;
                hits++;
            }
        }
        double sum = 0;
        int classes = 0;
        for (int c = 0; c < numClasses; c++) {
            if (seen[c] > 0) {
                sum += (double) correct[c] / seen[c];
                classes++;
            }
        }
        return new Scores(truth.length == 0 ? 0 : (double) hits / truth.length, classes == 0 ? 0 : sum / classes, truth.length);
    }
}
