package org.sparsetransfer.core.train;

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
import java.util.Map;
import java.util.Optional;
import org.sparsetransfer.core.InvalidInputException;
import org.sparsetransfer.core.checkpoint.CheckpointCodec;
import org.sparsetransfer.core.model.Tensor;
import org.sparsetransfer.core.model.Weights;
import org.sparsetransfer.core.prune.Mask;
import org.sparsetransfer.core.prune.MaskUpdater;

/**
 * A training's state after {@code step} of its {@code totalSteps} steps, saved inside long
 * trainings so that a killed run resumes where it was: the averaged weights and momentum buffers,
 * the mask, the weights kept at IMP's rewind step when that step has passed, and the wall time
 * spent. Nothing else is needed to continue exactly: every worker's batch order and augmentation
 * derive from (seed, step) ({@link BatchOrder#skip}), and a round starts from exactly this.
 *
 * <p>Weights are stored as checkpoints are ({@link CheckpointCodec}: exact float32, bitmask
 * plus kept values, a pruned element read back as +0.0); momentum buffers and kept weights
 * dense, bit for bit. The encoding is plain
 * data with a SHA-256 checksum per part, so loading one never runs code from it.
 */
public record TrainingState(String key, int step, int totalSteps, Weights weights, Weights momentum, Mask mask, Weights kept,
        double wallSeconds) {
    private static final int MAGIC = 0x53505453; // "SPTS"
    private static final int VERSION = 1;

    /** Where a training's states are kept, by its {@link #key}; saving replaces the previous state. */
    public interface Store {
        /** The training's latest saved state, if any. */
        Optional<TrainingState> latest(String key) throws IOException;

        void save(TrainingState state) throws IOException;
    }

    public byte[] encode() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeInt(MAGIC);
            out.writeInt(VERSION);
            out.writeUTF(key);
            out.writeInt(step);
            out.writeInt(totalSteps);
            out.writeDouble(wallSeconds);
            writePart(out, CheckpointCodec.encode(weights, mask));
            writePart(out, momentum == null ? null : CheckpointCodec.encode(momentum, null));
            // Dense: the mask may have shrunk since the kept step, and the kept weights must stay whole.
            writePart(out, kept == null ? null : CheckpointCodec.encode(kept, null));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /**
     * Reads a state back, checking every part's checksum.
     *
     * @param what names the state in error messages (its file)
     */
    public static TrainingState decode(byte[] bytes, String what) {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
            if (in.readInt() != MAGIC || in.readInt() != VERSION) {
                throw new InvalidInputException("Training state " + what + " is not in training-state format version " + VERSION
                        + "; delete it to restart that training from its beginning");
            }
            String key = in.readUTF();
            int step = in.readInt();
            int totalSteps = in.readInt();
            double wallSeconds = in.readDouble();
            CheckpointCodec.Decoded model = readPart(in, what);
            CheckpointCodec.Decoded momentum = readPart(in, what);
            CheckpointCodec.Decoded kept = readPart(in, what);
            return new TrainingState(key, step, totalSteps, model.weights(), momentum == null ? null : momentum.weights(),
                    model.mask(), kept == null ? null : kept.weights(), wallSeconds);
        } catch (IOException e) {
            throw new InvalidInputException("Training state " + what + " is truncated (" + e.getMessage()
                    + "); delete it to restart that training from its beginning", e);
        }
    }

    private static void writePart(DataOutputStream out, byte[] part) throws IOException {
        out.writeBoolean(part != null);
        if (part != null) {
            out.writeUTF(CheckpointCodec.checksum(part));
            out.writeInt(part.length);
            out.write(part);
        }
    }

    private static CheckpointCodec.Decoded readPart(DataInputStream in, String what) throws IOException {
        if (!in.readBoolean()) {
            return null;
        }
        String checksum = in.readUTF();
        byte[] part = new byte[in.readInt()];
        in.readFully(part);
        return CheckpointCodec.decode(part, checksum, "state " + what);
    }

    /**
     * What identifies one training, as a hash: its {@code scope} (what it makes, e.g. a
     * checkpoint id, which covers model and data), its schedule (every step's learning rate and
     * pruning), how it is distributed, its optimizer settings and seed, its mask updater, its starting
     * weights and mask, its teacher and its kept step. A state is only ever resumed by the
     * training that saved it; any change starts afresh.
     */
    public static String key(String scope, TrainingSchedule schedule, int workers, int localSteps, TrainingLoop.Settings settings,
            MaskUpdater updater, Weights start, Mask startMask, Weights teacher, int keepAtStep) {
        MessageDigest digest = sha256();
        Hashing hash = new Hashing(digest);
        hash.text(scope).integer(schedule.totalSteps());
        for (int step = 0; step < schedule.totalSteps(); step++) {
            hash.integer(Float.floatToRawIntBits(schedule.learningRate(step)));
            schedule.pruneBefore(step).ifPresent(s -> hash.integer(-1).longValue(Double.doubleToLongBits(s)));
        }
        hash.integer(workers).integer(workers > 1 ? localSteps : 0).integer(settings.batchSize())
                .integer(Float.floatToRawIntBits(settings.momentum())).integer(Float.floatToRawIntBits(settings.weightDecay()))
                .longValue(settings.seed()).text(updater == null ? "-" : updater.describe()).integer(keepAtStep);
        hash.weights(start).mask(startMask).weights(teacher);
        if (teacher != null) {
            hash.integer(Float.floatToRawIntBits(settings.distillation().hardness()))
                    .integer(Float.floatToRawIntBits(settings.distillation().temperature()));
        }
        return HexFormat.of().formatHex(digest.digest()).substring(0, 32);
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every JVM", e);
        }
    }

    /** Feeds values to a digest, each with its length so that no two inputs hash alike by concatenation. */
    private record Hashing(MessageDigest digest) {
        private static final int CHUNK = 1 << 16;

        Hashing text(String s) {
            byte[] b = s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
            integer(b.length);
            digest.update(b);
            return this;
        }

        Hashing integer(int v) {
            digest.update(ByteBuffer.allocate(Integer.BYTES).putInt(v).array());
            return this;
        }

        Hashing longValue(long v) {
            digest.update(ByteBuffer.allocate(Long.BYTES).putLong(v).array());
            return this;
        }

        Hashing weights(Weights w) {
            if (w == null) {
                return integer(-1);
            }
            integer(w.tensors().size());
            for (Map.Entry<String, Tensor> e : w.tensors().entrySet()) {
                text(e.getKey()).integer(e.getValue().shape().length);
                for (long d : e.getValue().shape()) {
                    longValue(d);
                }
                float[] values = e.getValue().values();
                ByteBuffer chunk = ByteBuffer.allocate(CHUNK * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
                for (int from = 0; from < values.length; from += CHUNK) {
                    int n = Math.min(CHUNK, values.length - from);
                    chunk.clear();
                    chunk.asFloatBuffer().put(values, from, n);
                    digest.update(chunk.array(), 0, n * Float.BYTES);
                }
            }
            return this;
        }

        Hashing mask(Mask m) {
            if (m == null) {
                return integer(-1);
            }
            integer(m.tensorNames().size());
            for (String name : m.tensorNames()) {
                boolean[] bits = m.bits(name);
                text(name).integer(bits.length);
                digest.update(CheckpointCodec.packBits(bits));
            }
            return this;
        }
    }
}
