package org.sparsetransfer.core.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.nio.ByteBuffer;
import org.sparsetransfer.core.data.ImageSet;

/**
 * Inputs and labels held on the engine's side for a whole run: images are uploaded once and
 * normalized once, and each step gathers its batch there, so no per-step copy from Java
 * arrays (about 30% of step time, measured: docs/design.md, "libtorch under DJL"). Owned by the manager given.
 * Inputs are not augmented: every pass sees the same tensors.
 */
public final class TensorData implements TrainingData {
    /** Pixel scaling to [-1, 1]: (p / 255 - 0.5) / 0.5. */
    private static final float MEAN = 0.5f;
    private static final float STD = 0.5f;

    private final NDArray inputs;
    private final NDArray labels;
    private final int[] labelValues;
    private final int numClasses;

    TensorData(NDArray inputs, int[] labelValues, int numClasses) {
        this.inputs = inputs;
        this.labelValues = labelValues.clone();
        this.labels = inputs.getManager().create(labelValues).toType(DataType.INT64, false);
        this.numClasses = numClasses;
    }

    /** Uploads {@code images} as a normalized float tensor (N, C, H, W). */
    static TensorData upload(NDManager manager, ImageSet images) {
        ByteBuffer raw = ByteBuffer.allocateDirect(images.pixels().length);
        raw.put(images.pixels()).flip();
        NDArray bytes = manager.create(raw, new Shape(images.size(), images.channels(), images.height(), images.width()),
                DataType.UINT8);
        return new TensorData(scale(bytes), images.labels(), images.numClasses());
    }

    /** Pixels (uint8) as normalized floats; closes {@code bytes}. */
    static NDArray scale(NDArray bytes) {
        NDArray scaled = bytes.toType(DataType.FLOAT32, false).divi(255f).subi(MEAN).divi(STD);
        bytes.close();
        return scaled;
    }

    @Override
    public int size() {
        return labelValues.length;
    }

    @Override
    public int numClasses() {
        return numClasses;
    }

    public NDArray inputs() {
        return inputs;
    }

    @Override
    public int[] labelValues() {
        return labelValues.clone();
    }

    @Override
    public NDArray[] batch(long[] indices, long seed, int epoch) {
        NDArray index = inputs.getManager().create(indices);
        return new NDArray[] {inputs.get(index), labels.get(index)};
    }

    @Override
    public void close() {
        inputs.close();
        labels.close();
    }

    @Override
    public NDArray[] range(int from, int to) {
        return new NDArray[] {inputs.get(from + ":" + to), labels.get(from + ":" + to)};
    }
}
