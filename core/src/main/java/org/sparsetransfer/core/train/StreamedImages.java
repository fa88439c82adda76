package org.sparsetransfer.core.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.nio.ByteBuffer;
import org.sparsetransfer.core.data.ImageSource;

/**
 * Unaugmented images read batch by batch from their source (e.g. spilled to a file) and scaled
 * on the engine exactly as {@link TensorData#upload} scales a whole set, so the engine holds a
 * batch rather than the split; the same images give the same floats either way.
 */
final class StreamedImages implements TrainingData {
    private final NDManager manager;
    private final ImageSource images;

    StreamedImages(NDManager manager, ImageSource images) {
        this.manager = manager;
        this.images = images;
    }

    @Override
    public int size() {
        return images.size();
    }

    @Override
    public int numClasses() {
        return images.numClasses();
    }

    @Override
    public int[] labelValues() {
        return images.labels().clone();
    }

    @Override
    public NDArray[] batch(long[] indices, long seed, int epoch) {
        int[] at = new int[indices.length];
        for (int i = 0; i < indices.length; i++) {
            at[i] = Math.toIntExact(indices[i]);
        }
        return read(at);
    }

    @Override
    public NDArray[] range(int from, int to) {
        return read(java.util.stream.IntStream.range(from, to).toArray());
    }

    private NDArray[] read(int[] indices) {
        int n = images.imageBytes();
        byte[] bytes = new byte[Math.multiplyExact(indices.length, n)];
        int[] labels = new int[indices.length];
        for (int i = 0; i < indices.length; i++) {
            images.read(indices[i], bytes, i * n);
            labels[i] = images.labels()[indices[i]];
        }
        ByteBuffer raw = ByteBuffer.allocateDirect(bytes.length);
        raw.put(bytes).flip();
        NDArray pixels = manager.create(raw, new Shape(indices.length, images.channels(), images.height(), images.width()),
                DataType.UINT8);
        return new NDArray[] {TensorData.scale(pixels), manager.create(labels).toType(DataType.INT64, false)};
    }

    @Override
    public void close() {}
}
