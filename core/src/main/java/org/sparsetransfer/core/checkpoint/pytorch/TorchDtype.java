package org.sparsetransfer.core.checkpoint.pytorch;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Optional;

/**
 * The element types of tensors in PyTorch checkpoints, with their names in both formats: the
 * storage class {@code torch.save} pickles (e.g. {@code torch.FloatStorage}) and the dtype of a
 * safetensors header (e.g. {@code F32}). Values are little-endian in both.
 */
public enum TorchDtype {
    FLOAT32("FloatStorage", "F32", 4, true),
    FLOAT64("DoubleStorage", "F64", 8, true),
    FLOAT16("HalfStorage", "F16", 2, true),
    BFLOAT16("BFloat16Storage", "BF16", 2, true),
    INT64("LongStorage", "I64", 8, false),
    INT32("IntStorage", "I32", 4, false),
    INT16("ShortStorage", "I16", 2, false),
    INT8("CharStorage", "I8", 1, false),
    UINT8("ByteStorage", "U8", 1, false),
    BOOL("BoolStorage", "BOOL", 1, false);

    private final String storageClass;
    private final String safetensorsName;
    private final int bytes;
    private final boolean floating;

    TorchDtype(String storageClass, String safetensorsName, int bytes, boolean floating) {
        this.storageClass = storageClass;
        this.safetensorsName = safetensorsName;
        this.bytes = bytes;
        this.floating = floating;
    }

    /** The class {@code torch.save} names for a storage of this type (module {@code torch}). */
    public String storageClass() {
        return storageClass;
    }

    public String safetensorsName() {
        return safetensorsName;
    }

    /** Bytes per element. */
    public int bytes() {
        return bytes;
    }

    public boolean floating() {
        return floating;
    }

    public static Optional<TorchDtype> byStorageClass(String name) {
        return Arrays.stream(values()).filter(t -> t.storageClass.equals(name)).findFirst();
    }

    public static Optional<TorchDtype> bySafetensorsName(String name) {
        return Arrays.stream(values()).filter(t -> t.safetensorsName.equals(name)).findFirst();
    }

    /** Element {@code index} of {@code data} (little-endian) as a double; exact for every type but int64 beyond 2^53. */
    double get(ByteBuffer data, int index) {
        int at = index * bytes;
        return switch (this) {
            case FLOAT32 -> data.getFloat(at);
            case FLOAT64 -> data.getDouble(at);
            case FLOAT16 -> halfToFloat(data.getShort(at));
            case BFLOAT16 -> Float.intBitsToFloat((data.getShort(at) & 0xffff) << 16);
            case INT64 -> data.getLong(at);
            case INT32 -> data.getInt(at);
            case INT16 -> data.getShort(at);
            case INT8 -> data.get(at);
            case UINT8 -> data.get(at) & 0xff;
            case BOOL -> data.get(at) != 0 ? 1 : 0;
        };
    }

    /**
     * IEEE 754 half precision to single (exact: every half is a float). Java 17 has no
     * {@code Float.float16ToFloat} (it came in 20), hence these few lines.
     */
    static float halfToFloat(short half) {
        int h = half & 0xffff;
        int sign = (h & 0x8000) << 16;
        int exponent = (h >>> 10) & 0x1f;
        int mantissa = h & 0x3ff;
        if (exponent == 0x1f) { // infinity or NaN
            return Float.intBitsToFloat(sign | 0x7f800000 | (mantissa << 13));
        }
        if (exponent == 0) {
            if (mantissa == 0) {
                return Float.intBitsToFloat(sign);
            }
            // Subnormal half: a normal float once its mantissa is shifted up.
            return (sign != 0 ? -1f : 1f) * mantissa * 0x1p-24f;
        }
        return Float.intBitsToFloat(sign | ((exponent + 112) << 23) | (mantissa << 13));
    }
}
