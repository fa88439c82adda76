package org.sparsetransfer.core.checkpoint.pytorch;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import org.sparsetransfer.core.InvalidInputException;

/**
 * A tensor read from or written to a PyTorch checkpoint: its element type, its shape and its
 * elements, contiguous in row-major order as little-endian bytes (a view into a larger storage
 * is copied out when it is read, so offsets and strides are resolved once).
 */
public final class TorchTensor {
    private final TorchDtype dtype;
    private final long[] shape;
    private final byte[] data;

    public TorchTensor(TorchDtype dtype, long[] shape, byte[] data) {
        this.dtype = dtype;
        this.shape = shape.clone();
        this.data = data;
        long numel = numel(shape);
        if (numel * dtype.bytes() != data.length) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " of " + dtype + " needs " + numel * dtype.bytes()
                    + " bytes, got " + data.length);
        }
    }

    /** A float32 tensor of {@code values}. */
    public static TorchTensor ofFloats(long[] shape, float[] values) {
        ByteBuffer buffer = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        buffer.asFloatBuffer().put(values);
        return new TorchTensor(TorchDtype.FLOAT32, shape, buffer.array());
    }

    /** A 0-dimensional int64 tensor (e.g. BatchNorm's {@code num_batches_tracked}). */
    public static TorchTensor scalar(long value) {
        return new TorchTensor(TorchDtype.INT64, new long[0],
                ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(value).array());
    }

    /**
     * The elements of a view into a storage, as PyTorch's {@code _rebuild_tensor_v2} makes it:
     * {@code size} elements from {@code offset} on, {@code stride} apart per dimension (all in
     * elements). {@code storage} holds {@code storage.length / dtype.bytes()} elements.
     */
    static TorchTensor view(TorchDtype dtype, byte[] storage, long offset, long[] size, long[] stride, String what) {
        if (size.length != stride.length) {
            throw new InvalidInputException(what + ": size " + Arrays.toString(size) + " and stride " + Arrays.toString(stride)
                    + " differ in rank");
        }
        long numel = numel(size);
        long storageElements = storage.length / dtype.bytes();
        if (offset < 0 || Arrays.stream(size).anyMatch(s -> s < 0) || Arrays.stream(stride).anyMatch(s -> s < 0)) {
            throw new InvalidInputException(what + ": negative offset, size or stride");
        }
        if (numel == 0) {
            return new TorchTensor(dtype, size, new byte[0]);
        }
        long last = offset;
        for (int d = 0; d < size.length; d++) {
            last += (size[d] - 1) * stride[d];
        }
        if (last >= storageElements) {
            throw new InvalidInputException(what + ": a tensor of size " + Arrays.toString(size) + " at offset " + offset
                    + " with stride " + Arrays.toString(stride) + " reaches element " + last + " of a storage of " + storageElements
                    + " elements; the file is damaged");
        }
        long bytes = numel * dtype.bytes();
        if (bytes > Integer.MAX_VALUE - 8) {
            throw new InvalidInputException(what + ": a tensor of " + bytes + " bytes is larger than one Java array holds");
        }
        int width = dtype.bytes();
        byte[] out = new byte[(int) bytes];
        if (isContiguous(size, stride)) {
            System.arraycopy(storage, Math.toIntExact(offset * width), out, 0, out.length);
            return new TorchTensor(dtype, size, out);
        }
        // A general view: walk its indices in row-major order (an odometer over the dimensions).
        long[] index = new long[size.length];
        long source = offset;
        for (int i = 0; i < numel; i++) {
            System.arraycopy(storage, (int) (source * width), out, i * width, width);
            for (int d = size.length - 1; d >= 0; d--) {
                if (++index[d] < size[d]) {
                    source += stride[d];
                    break;
                }
                source -= (size[d] - 1) * stride[d];
                index[d] = 0;
            }
        }
        return new TorchTensor(dtype, size, out);
    }

    private static boolean isContiguous(long[] size, long[] stride) {
        long expected = 1;
        for (int d = size.length - 1; d >= 0; d--) {
            if (size[d] != 1 && stride[d] != expected) {
                return false;
            }
            expected *= size[d];
        }
        return true;
    }

    static long numel(long[] shape) {
        long n = 1;
        for (long s : shape) {
            n = Math.multiplyExact(n, s);
        }
        return n;
    }

    public TorchDtype dtype() {
        return dtype;
    }

    public long[] shape() {
        return shape.clone();
    }

    public long numel() {
        return numel(shape);
    }

    /** The little-endian bytes of the elements, row-major (the array itself: do not change it). */
    public byte[] data() {
        return data;
    }

    /**
     * The elements as float32: exact for float32, float16 and bfloat16, rounded to nearest for
     * float64, and the values of integer and boolean tensors (masks saved as uint8 or bool).
     */
    public float[] toFloats() {
        ByteBuffer buffer = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        float[] out = new float[(int) numel()];
        if (dtype == TorchDtype.FLOAT32) {
            buffer.asFloatBuffer().get(out);
            return out;
        }
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) dtype.get(buffer, i);
        }
        return out;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TorchTensor t && dtype == t.dtype && Arrays.equals(shape, t.shape) && Arrays.equals(data, t.data);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(shape) + Arrays.hashCode(data);
    }

    @Override
    public String toString() {
        return dtype + Arrays.toString(shape);
    }
}
