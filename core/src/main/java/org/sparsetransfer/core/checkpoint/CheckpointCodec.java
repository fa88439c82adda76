package org.sparsetransfer.core.checkpoint;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import org.sparsetransfer.core.InvalidInputException;
import org.sparsetransfer.core.model.Tensor;
import org.sparsetransfer.core.model.Weights;
import org.sparsetransfer.core.prune.Mask;

/**
 * Binary encoding of a model's weights and mask. Masked tensors are stored as a bitmask (one bit
 * per element) plus only the kept values, so a 90%-sparse tensor takes about 0.1 + 1/32 of its
 * dense size; other tensors are stored dense. Kept values round-trip bit for bit; a pruned
 * element decodes as +0.0 (the sign of a pruned zero, which no computation reads, is not stored).
 * A SHA-256 checksum of the bytes is kept beside them and verified on every decode.
 *
 * <p>Written by hand because no library encodes a bitmask-plus-values tensor in Java; the format
 * is small: {@code "SPTK" version count} then per tensor {@code name rank dims kind data}.
 */
public final class CheckpointCodec {
    private static final int MAGIC = 0x5350544B; // "SPTK"
    private static final int VERSION = 1;
    private static final byte DENSE = 0;
    private static final byte MASKED = 1;

    private CheckpointCodec() {}

    /** Weights and mask read back from a checkpoint. */
    public record Decoded(Weights weights, Mask mask) {}

    public static byte[] encode(Weights weights, Mask mask) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeInt(MAGIC);
            out.writeInt(VERSION);
            out.writeInt(weights.tensors().size());
            for (Map.Entry<String, Tensor> e : weights.tensors().entrySet()) {
                Tensor t = e.getValue();
                out.writeUTF(e.getKey());
                out.writeByte(t.shape().length);
                for (long d : t.shape()) {
                    out.writeLong(d);
                }
                float[] v = t.values();
                if (mask != null && mask.covers(e.getKey())) {
                    boolean[] kept = mask.bits(e.getKey());
                    out.writeByte(MASKED);
                    byte[] bits = packBits(kept);
                    int count = 0;
                    for (boolean k : kept) {
                        count += k ? 1 : 0;
                    }
                    float[] values = new float[count];
                    for (int i = 0, j = 0; i < kept.length; i++) {
                        if (kept[i]) {
                            values[j++] = v[i];
                        }
                    }
                    out.write(bits);
                    out.writeInt(count);
                    writeFloats(out, values);
                } else {
                    out.writeByte(DENSE);
                    writeFloats(out, v);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /**
     * Decodes bytes after checking them against {@code expectedChecksum}.
     *
     * @param what names the checkpoint in error messages
     */
    public static Decoded decode(byte[] payload, String expectedChecksum, String what) {
        String actual = checksum(payload);
        if (!actual.equals(expectedChecksum)) {
            throw new InvalidInputException("Checkpoint " + what + " failed its checksum (stored " + expectedChecksum
                    + ", computed " + actual + "): the stored bytes are corrupt; delete that checkpoint row and rerun its stage");
        }
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(payload))) {
            if (in.readInt() != MAGIC || in.readInt() != VERSION) {
                throw new InvalidInputException("Checkpoint " + what + " is not in checkpoint format version " + VERSION);
            }
            int count = in.readInt();
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            Map<String, boolean[]> kept = new LinkedHashMap<>();
            for (int t = 0; t < count; t++) {
                String name = in.readUTF();
                long[] shape = new long[in.readByte()];
                long n = 1;
                for (int d = 0; d < shape.length; d++) {
                    shape[d] = in.readLong();
                    n *= shape[d];
                }
                int size = Math.toIntExact(n);
                float[] values;
                byte kind = in.readByte();
                if (kind == MASKED) {
                    byte[] bits = new byte[(size + 7) / 8];
                    in.readFully(bits);
                    float[] keptValues = readFloats(in, in.readInt());
                    boolean[] k = new boolean[size];
                    values = new float[size];
                    for (int i = 0, j = 0; i < size; i++) {
                        if ((bits[i >>> 3] & (1 << (i & 7))) != 0) {
                            k[i] = true;
                            values[i] = keptValues[j++];
                        }
                    }
                    kept.put(name, k);
                } else {
                    values = readFloats(in, size);
                }
                tensors.put(name, new Tensor(shape, values));
            }
            return new Decoded(new Weights(tensors), kept.isEmpty() ? null : new Mask(kept));
        } catch (IOException | RuntimeException e) {
            if (e instanceof InvalidInputException iie) {
                throw iie;
            }
            throw new InvalidInputException("Checkpoint " + what + " cannot be decoded: " + e, e);
        }
    }

    /** A mask's bits, eight per byte, element i at bit (i mod 8) of byte i / 8: the stored bitmask. */
    public static byte[] packBits(boolean[] kept) {
        byte[] bits = new byte[(kept.length + 7) / 8];
        for (int i = 0; i < kept.length; i++) {
            if (kept[i]) {
                bits[i >>> 3] |= (byte) (1 << (i & 7));
            }
        }
        return bits;
    }

    public static String checksum(byte[] payload) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(payload));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every JVM", e);
        }
    }

    private static void writeFloats(DataOutputStream out, float[] values) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(values.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        buffer.asFloatBuffer().put(values);
        out.write(buffer.array());
    }

    private static float[] readFloats(DataInputStream in, int count) throws IOException {
        byte[] raw = new byte[Math.multiplyExact(count, Float.BYTES)];
        in.readFully(raw);
        float[] values = new float[count];
        ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(values);
        return values;
    }
}
