package org.sparsetransfer.core.experiment;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.concurrent.Callable;
import org.sparsetransfer.core.train.TensorData;
import org.sparsetransfer.core.train.TrainingData;

/**
 * Where linear transfer keeps a frozen backbone's features between the runs that share them.
 * Every seed of one checkpoint on one task extracts the same features (the backbone is frozen
 * and the evaluation transform deterministic), so a cache turns one forward pass over the task
 * per seed into one in all. The caller scopes a cache to one checkpoint and one task.
 */
@FunctionalInterface
public interface FeatureCache {
    /** Extracts every time. */
    FeatureCache NONE = extract -> extract.call();

    /** A cache for one scope: the first call extracts, later calls get the same features. */
    static FeatureCache holdingOne() {
        Extracted[] held = {null};
        return extract -> {
            if (held[0] == null) {
                held[0] = extract.call();
            }
            return held[0];
        };
    }

    /** This scope's features: kept from an earlier run, or made by {@code extract}. */
    Extracted get(Callable<Extracted> extract) throws Exception;

    /** The features of a task's training and test splits. */
    record Extracted(Split train, Split test) {}

    /** One split's features on the heap (engine arrays belong to a run): one row of {@code dimension} floats per example. */
    record Split(float[] values, int dimension, int[] labels, int numClasses) {
        static Split of(NDArray features, int[] labels, int numClasses) {
            return new Split(features.toFloatArray(), Math.toIntExact(features.getShape().get(1)), labels, numClasses);
        }

        TensorData upload(NDManager manager) {
            return TrainingData.of(manager.create(values, new Shape(labels.length, dimension)), labels, numClasses);
        }
    }
}
