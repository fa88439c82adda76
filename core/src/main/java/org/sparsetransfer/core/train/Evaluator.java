package org.sparsetransfer.core.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import java.util.function.UnaryOperator;
import org.sparsetransfer.core.model.Network;

/** Inference over on-device data in fixed-size batches. */
public final class Evaluator {
    private Evaluator() {}

    public static Scores evaluate(Network network, TrainingData data) {
        return count(network, data).scores();
    }

    /** Per-class counts of the network's predictions on {@code data}, for summing over a split's parts. */
    public static ClassCounts count(Network network, TrainingData data) {
        return ClassCounts.of(predict(network, data), data.labelValues(), data.numClasses());
    }

    public static int[] predict(Network network, TrainingData data) {
        int[] predicted = new int[data.size()];
        int batch = data.evaluationBatch();
        for (int from = 0; from < data.size(); from += batch) {
            int to = Math.min(from + batch, data.size());
            try (NDScope scope = new NDScope()) {
                scope.suppressNotUsedWarning();
                NDArray x = data.range(from, to)[0];
                int[] labels = network.forward(x, false).argMax(1).toType(DataType.INT32, false).toIntArray();
                System.arraycopy(labels, 0, predicted, from, labels.length);
            }
        }
        return predicted;
    }
}
