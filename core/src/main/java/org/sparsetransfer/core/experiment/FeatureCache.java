package org.sparsetransfer.core.experiment;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import org.sparsetransfer.core.data.SpillFile;
import org.sparsetransfer.core.train.TrainingData;
import org.sparsetransfer.core.transfer.LinearProbe;

/**
 * Where linear transfer keeps a frozen backbone's features between the runs that share them.
 * Every seed of one checkpoint on one task extracts the same features (the backbone is frozen
 * and the evaluation transform deterministic), so a cache turns one forward pass over the task
 * per seed into one in all. The caller scopes a cache to one checkpoint and one task, and closes
 * it, which deletes features spilled to disk.
 */
@FunctionalInterface
public interface FeatureCache extends AutoCloseable {
    /** A cache that keeps nothing: every call extracts, and the features it made last are deleted by the next call or by closing it. */
    static FeatureCache none() {
        return new Holding(false);
    }

    /** A cache for one scope: the first call extracts, later calls get the same features. */
    static FeatureCache holdingOne() {
        return new Holding(true);
    }

    /** The features of the last extraction, reused or replaced by the next call; closing deletes them. */
    final class Holding implements FeatureCache {
        private final boolean reuse;
        private Extracted held;

        private Holding(boolean reuse) {
            this.reuse = reuse;
        }

        @Override
        public Extracted get(Callable<Extracted> extract) throws Exception {
            if (held == null || !reuse) {
                close();
                held = extract.call();
            }
            return held;
        }

        @Override
        public void close() {
            if (held != null) {
                held.close();
                held = null;
            }
        }
    }

    /** This scope's features: kept from an earlier run, or made by {@code extract}. */
    Extracted get(Callable<Extracted> extract) throws Exception;

    /** Deletes what the cache holds. */
    @Override
    default void close() {}

    /**
     * The features of a task's training and test splits, and the linear probe's fits on the whole
     * training split by penalty: a fit starts from zeros, so it is the same for every seed that
     * chooses its penalty, and the seeds share it.
     */
    record Extracted(Split train, Split test, Map<Double, LinearProbe.Fit> probeFits) implements AutoCloseable {
        public Extracted(Split train, Split test) {
            this(train, test, new HashMap<>());
        }

        @Override
        public void close() {
            try {
                train.close();
            } finally {
                test.close();
            }
        }
    }

    /**
     * One split's features, one row of {@code dimension} floats per example: on the heap when
     * the split's fit the buffer ({@code data.buffer_mb}, per split), otherwise in a local file whose rows each
     * batch reads by position, so a task's memory for features does not grow with the split
     * (engine arrays belong to a run and are made per batch). Either way a batch holds the same
     * floats, so both give the same results.
     */
    final class Split implements AutoCloseable {
        private final float[] values;
        private final SpillFile file;
        private final int dimension;
        private final int[] labels;
        private final int numClasses;

        private Split(float[] values, SpillFile file, int dimension, int[] labels, int numClasses) {
            this.values = values;
            this.file = file;
            this.dimension = dimension;
            this.labels = labels;
            this.numClasses = numClasses;
        }

        public int[] labels() {
            return labels.clone();
        }

        public int dimension() {
            return dimension;
        }

        /** Whether the features are in a local file rather than on the heap. */
        public boolean spilled() {
            return file != null;
        }

        /** The spilled file (null: on the heap). */
        Path file() {
            return file == null ? null : file.path();
        }

        /** The features as training data on {@code manager}'s engine; closing it leaves the split. */
        public TrainingData open(NDManager manager) {
            return file == null ? TrainingData.of(manager.create(values, new Shape(labels.length, dimension)), labels, numClasses)
                    : new Spilled(manager, file, dimension, labels, numClasses);
        }

        /** Deletes the spilled file, if any (it is also deleted if the split is dropped unclosed). */
        @Override
        public void close() {
            if (file != null) {
                file.delete();
            }
        }

        /**
         * Collects a split's features batch by batch: on the heap while the whole split fits
         * {@code bufferBytes}, else in a new file under {@code spillDir}.
         */
        public static Writer writer(int examples, int[] labels, int numClasses, long bufferBytes, Path spillDir) {
            return new Writer(examples, labels, numClasses, bufferBytes, spillDir);
        }

        /** Appends batches of feature rows in example order; {@link #finish} gives the split. */
        public static final class Writer {
            private final int examples;
            private final int[] labels;
            private final int numClasses;
            private final long bufferBytes;
            private final Path spillDir;
            private int dimension = -1;
            private float[] values;
            private Path file;
            private FileChannel out;
            private long rows;

            private Writer(int examples, int[] labels, int numClasses, long bufferBytes, Path spillDir) {
                this.examples = examples;
                this.labels = labels;
                this.numClasses = numClasses;
                this.bufferBytes = bufferBytes;
                this.spillDir = spillDir;
            }

            /** The next rows: {@code batch.length} is a whole number of rows of the batch's {@code dimension}. */
            public void append(float[] batch, int batchDimension) throws IOException {
                if (dimension < 0) {
                    dimension = batchDimension;
                    long floats = (long) examples * dimension;
                    if (floats * Float.BYTES <= bufferBytes && floats <= Integer.MAX_VALUE - 8) {
                        values = new float[Math.toIntExact((long) examples * dimension)];
                    } else {
                        Files.createDirectories(spillDir);
                        file = Files.createTempFile(spillDir, "features-", ".f32");
                        out = FileChannel.open(file, StandardOpenOption.WRITE);
                    }
                }
                if (batchDimension != dimension || batch.length % dimension != 0) {
                    throw new IllegalArgumentException("feature rows of " + batchDimension + " floats after rows of " + dimension);
                }
                if (out == null) {
                    System.arraycopy(batch, 0, values, Math.toIntExact(rows * dimension), batch.length);
                } else {
                    ByteBuffer bytes = ByteBuffer.allocate(batch.length * Float.BYTES).order(ByteOrder.nativeOrder());
                    bytes.asFloatBuffer().put(batch);
                    while (bytes.hasRemaining()) {
                        out.write(bytes);
                    }
                }
                rows += batch.length / dimension;
            }

            /** Closes and deletes what was written (an extraction that failed). */
            public void abort() {
                try {
                    if (out != null) {
                        out.close();
                    }
                    if (file != null) {
                        Files.deleteIfExists(file);
                    }
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot delete spilled features " + file, e);
                }
            }

            public Split finish() throws IOException {
                if (rows != examples) {
                    throw new IllegalStateException("features of " + rows + " of " + examples + " examples");
                }
                if (out != null) {
                    out.close();
                }
                return new Split(values, file == null ? null : new SpillFile(file), Math.max(dimension, 0), labels, numClasses);
            }
        }

        /** Spilled features: every batch read from the file by position (the OS's page cache, not the heap, caches them). */
        private static final class Spilled implements TrainingData {
            private final NDManager manager;
            private final SpillFile in;
            private final int dimension;
            private final int[] labels;
            private final int numClasses;

            Spilled(NDManager manager, SpillFile file, int dimension, int[] labels, int numClasses) {
                this.manager = manager;
                this.dimension = dimension;
                this.labels = labels;
                this.numClasses = numClasses;
                this.in = file;
            }

            @Override
            public int size() {
                return labels.length;
            }

            @Override
            public int numClasses() {
                return numClasses;
            }

            @Override
            public int[] labelValues() {
                return labels.clone();
            }

            @Override
            public NDArray[] batch(long[] indices, long seed, int epoch) {
                long rowBytes = (long) dimension * Float.BYTES;
                ByteBuffer rows = ByteBuffer.allocateDirect(Math.toIntExact(indices.length * rowBytes)).order(ByteOrder.nativeOrder());
                int[] batchLabels = new int[indices.length];
                for (int i = 0; i < indices.length; i++) {
                    rows.limit(Math.toIntExact((i + 1) * rowBytes));
                    read(rows, indices[i] * rowBytes);
                    batchLabels[i] = labels[Math.toIntExact(indices[i])];
                }
                return arrays(rows, batchLabels);
            }

            @Override
            public NDArray[] range(int from, int to) {
                long rowBytes = (long) dimension * Float.BYTES;
                ByteBuffer rows = ByteBuffer.allocateDirect(Math.toIntExact((to - from) * rowBytes)).order(ByteOrder.nativeOrder());
                read(rows, from * rowBytes);
                return arrays(rows, java.util.Arrays.copyOfRange(labels, from, to));
            }

            private void read(ByteBuffer into, long position) {
                in.read(into, position);
            }

            private NDArray[] arrays(ByteBuffer rows, int[] batchLabels) {
                rows.rewind().limit(rows.capacity());
                NDArray inputs = manager.create(rows, new Shape(batchLabels.length, dimension), DataType.FLOAT32);
                return new NDArray[] {inputs, manager.create(batchLabels).toType(DataType.INT64, false)};
            }

            /** The file belongs to its split, which deletes it. */
            @Override
            public void close() {}
        }
    }
}
