package org.sparsetransfer.core.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import org.sparsetransfer.core.data.ImageSet;
import org.sparsetransfer.core.data.ImageSource;

/**
 * Labelled examples as the training loop and the evaluator take them: training batches by
 * example index (augmented where the inputs are), and evaluation ranges in order. Arrays returned
 * are created in the caller's current {@code NDScope}; the data itself is closed by its owner.
 */
public interface TrainingData extends AutoCloseable {
    int size();

    int numClasses();

    /** Every example's label, in order. */
    int[] labelValues();

    /**
     * The training inputs and labels of the examples at {@code indices}. Augmented data draws
     * each example's transform from (run {@code seed}, {@code epoch}, example index), so passes
     * differ and a rerun repeats them.
     */
    NDArray[] batch(long[] indices, long seed, int epoch);

    /**
     * A hint that {@link #batch} will next be asked for these examples: data whose inputs take
     * work to make (decoding, augmentation) starts on them in the background. The batch is the
     * same with or without the hint.
     */
    default void prefetch(long[] indices, long seed, int epoch) {}

    /** Evaluation inputs and labels of examples {@code from} (inclusive) to {@code to} (exclusive). */
    NDArray[] range(int from, int to);

    /** Examples per evaluation batch: as many as fit a bounded input tensor. */
    default int evaluationBatch() {
        return 1000;
    }

    @Override
    void close();

    /**
     * Unaugmented images scaled to [-1, 1] (the small CNN's input): a set on the heap is uploaded
     * once; any other source (spilled to a file: larger than the data buffer) is read and scaled
     * per batch. Both give the same floats.
     */
    static TrainingData upload(NDManager manager, ImageSource images) {
        return images instanceof ImageSet onHeap ? TensorData.upload(manager, onHeap) : new StreamedImages(manager, images);
    }

    /**
     * The examples of {@code data} at {@code indices}, in that order, as data of their own (a
     * hold-out's parts). Only for unaugmented data (features): evaluation ranges are read as
     * batches. The view does not close {@code data}.
     */
    static TrainingData subset(TrainingData data, long[] indices) {
        int[] all = data.labelValues();
        int[] labels = new int[indices.length];
        for (int i = 0; i < indices.length; i++) {
            labels[i] = all[Math.toIntExact(indices[i])];
        }
        return new TrainingData() {
            @Override
            public int size() {
                return indices.length;
            }

            @Override
            public int numClasses() {
                return data.numClasses();
            }

            @Override
            public int[] labelValues() {
                return labels.clone();
            }

            @Override
            public NDArray[] batch(long[] chosen, long seed, int epoch) {
                return data.batch(map(chosen), seed, epoch);
            }

            @Override
            public NDArray[] range(int from, int to) {
                long[] chosen = new long[to - from];
                for (int i = 0; i < chosen.length; i++) {
                    chosen[i] = from + i;
                }
                return data.batch(map(chosen), 0, 0);
            }

            @Override
            public int evaluationBatch() {
                return data.evaluationBatch();
            }

            private long[] map(long[] chosen) {
                long[] mapped = new long[chosen.length];
                for (int i = 0; i < chosen.length; i++) {
                    mapped[i] = indices[Math.toIntExact(chosen[i])];
                }
                return mapped;
            }

            @Override
            public void close() {}
        };
    }

    /** Inputs already on the engine (e.g. extracted features), with their labels. */
    static TensorData of(NDArray inputs, int[] labels, int numClasses) {
        return new TensorData(inputs, labels, numClasses);
    }
}
