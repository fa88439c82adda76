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
    private static final int BATCH = 1000;

    private Evaluator() {}

    public static Scores evaluate(Network network, TrainingData data) {
        return Scores.of(predict(network, data), data.labelValues(), data.numClasses());
    }

    public static int[] predict(Network network, TrainingData data) {
        int[] predicted = new int[data.size()];
        for (int from = 0; from < data.size(); from += BATCH) {
            int to = Math.min(from + BATCH, data.size());
            try (NDScope scope = new NDScope()) {
                scope.suppressNotUsedWarning();
                NDArray x = data.range(from, to)[0];
                int[] batch = network.forward(x, false).argMax(1).toType(DataType.INT32, false).toIntArray();
                System.arraycopy(batch, 0, predicted, from, batch.length);
            }
        }
        return predicted;
    }

    /** Applies {@code map} (e.g. a feature extractor) to all inputs, batch by batch, into one array. */
    public static NDArray mapInputs(TrainingData data, UnaryOperator<NDArray> map) {
        NDArray[] parts = new NDArray[(data.size() + BATCH - 1) / BATCH];
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            for (int b = 0; b < parts.length; b++) {
                int from = b * BATCH;
                parts[b] = map.apply(data.range(from, Math.min(from + BATCH, data.size()))[0]);
            }
            NDArray all = NDArrays.concat(new NDList(parts), 0);
            NDScope.unregister(all);
            return all;
        }
    }
}
