package org.sparsetransfer.core.vision;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.function.IntConsumer;
import java.util.stream.IntStream;
import org.sparsetransfer.core.data.ImageSource;
import org.sparsetransfer.core.train.TrainingData;

/**
 * RGB images kept as bytes on the Java side and turned into normalized float batches on demand:
 * training batches through {@link Augmentation#train} (a fresh random crop and flip per example,
 * seeded by run, pass and example), evaluation ranges through {@link Augmentation#test}. Only a
 * batch's floats ever reach the engine, so a set larger than device memory still trains; each
 * image is read from its source when its batch needs it, so a spilled set trains in a batch's memory.
 */
public final class AugmentedImages implements TrainingData {
    private final ImageSource images;
    private final NDManager manager;
    private final NDArray labels;
    private final int crop;
    private final Augmentation.Normalization normalization;
    private final Resampling.Filter filter;
    /** Decodes and transforms batches' images: in parallel, and the next training batch while a step computes. */
    private final ForkJoinPool loaders;
    private final int loaderThreads;
    /** The training batch {@link #prefetch} started, and its inputs to come (null: none). */
    private Prefetched pending;
    private final InputBuffers buffers = new InputBuffers();

    private record Prefetched(long[] indices, long seed, int epoch, InputBuffer buffer, java.util.concurrent.Future<?> filled) {
        boolean is(long[] otherIndices, long otherSeed, int otherEpoch) {
            return seed == otherSeed && epoch == otherEpoch && java.util.Arrays.equals(indices, otherIndices);
        }
    }

    /**
     * @param images RGB images as stored by ingest ({@link Augmentation#store}: squares of the evaluation resize)
     * @param crop the training crop and evaluation centre crop, in pixels
     */
    public AugmentedImages(NDManager manager, ImageSource images, int crop, Resampling.Filter filter,
            Augmentation.Normalization normalization) {
        this(manager, images, crop, filter, normalization, 1);
    }

    /**
     * @param loaderThreads threads that read (decode) and transform a batch's images; each
     *     example's transform is seeded by its index, so any count gives the same batches
     */
    public AugmentedImages(NDManager manager, ImageSource images, int crop, Resampling.Filter filter,
            Augmentation.Normalization normalization, int loaderThreads) {
        if (images.channels() != 3) {
            throw new IllegalArgumentException(images.name() + " has " + images.channels() + " channels; augmentation takes RGB");
        }
        if (crop > Math.min(images.height(), images.width())) {
            throw new IllegalArgumentException(images.name() + ": crop " + crop + " exceeds its " + images.height() + "x"
                    + images.width() + " images");
        }
        this.images = images;
        this.manager = manager;
        this.crop = crop;
        this.normalization = normalization;
        this.filter = filter;
        this.labels = manager.create(images.labels()).toType(DataType.INT64, false);
        if (loaderThreads < 1) {
            throw new IllegalArgumentException("loader threads must be at least 1, got " + loaderThreads);
        }
        this.loaderThreads = loaderThreads;
        this.loaders = new ForkJoinPool(loaderThreads);
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
        InputBuffer inputs;
        if (pending != null && pending.is(indices, seed, epoch)) {
            await(pending.filled());
            inputs = pending.buffer();
        } else {
            dropPending();
            inputs = buffers.take(indices.length);
            fillTraining(inputs, indices, seed, epoch);
        }
        pending = null;
        return new NDArray[] {inputs.tensor(), labels.get(manager.create(indices))};
    }

    @Override
    public void prefetch(long[] indices, long seed, int epoch) {
        dropPending();
        long[] copy = indices.clone();
        InputBuffer buffer = buffers.take(copy.length);
        pending = new Prefetched(copy, seed, epoch, buffer, loaders.submit(() -> fillTraining(buffer, copy, seed, epoch)));
    }

    /** Gives back the buffer of a prefetch nobody asked for, once the loaders are done with it. */
    private void dropPending() {
        if (pending != null) {
            await(pending.filled());
            pending.buffer().free();
            pending = null;
        }
    }

    /** Writes the examples' random crops and flips, normalized, into {@code inputs}, one after another. */
    private void fillTraining(InputBuffer inputs, long[] indices, long seed, int epoch) {
        forEach(indices.length, i -> {
            int index = Math.toIntExact(indices[i]);
            inputs.put(i, Augmentation.train(image(index), crop, Augmentation.random(seed, epoch, index), filter, normalization));
        });
    }

    @Override
    public NDArray[] range(int from, int to) {
        InputBuffer inputs = buffers.take(to - from);
        int side = Math.min(images.height(), images.width());
        forEach(to - from, i -> inputs.put(i, Augmentation.test(image(from + i), side, crop, filter, normalization)));
        return new NDArray[] {inputs.tensor(), labels.get(from + ":" + to)};
    }

    /** At most 16M floats (64 MB) of inputs per evaluation batch: 111 images at 224, 1000 at 32. */
    @Override
    public int evaluationBatch() {
        return Math.max(1, Math.min(1000, (1 << 24) / (3 * crop * crop)));
    }

    /** Runs {@code work} for 0..count-1, on the loader threads when there are several (each i writes its own slice). */
    private void forEach(int count, IntConsumer work) {
        if (loaderThreads == 1) {
            for (int i = 0; i < count; i++) {
                work.accept(i);
            }
        } else if (ForkJoinTask.inForkJoinPool()) {
            IntStream.range(0, count).parallel().forEach(work); // a prefetch, already on the loaders
        } else {
            await(loaders.submit(() -> IntStream.range(0, count).parallel().forEach(work)));
        }
    }

    private static <T> T await(java.util.concurrent.Future<T> work) {
        try {
            return work.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while loading a batch", e);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
        }
    }

    /**
     * Native buffers that batches' inputs are written into and that the engine's input tensors
     * use in place (no copy: copying a fresh 38 MB array for each batch of 64 images at 224 cost
     * more than decoding them). A buffer is reused once the tensor made from it is closed, as a
     * training step or evaluation batch closes its inputs; a caller that keeps a batch's inputs
     * keeps its buffer. Used from the caller's thread only (the loaders only fill buffers).
     */
    private final class InputBuffers {
        private final java.util.List<InputBuffer> all = new java.util.ArrayList<>();

        InputBuffer take(int count) {
            long bytes = (long) count * 3 * crop * crop * Float.BYTES;
            for (InputBuffer b : all) {
                if (b.isFree() && b.memory.capacity() >= bytes) {
                    b.claim(count);
                    return b;
                }
            }
            InputBuffer b = new InputBuffer(ByteBuffer.allocateDirect(Math.toIntExact(bytes)).order(ByteOrder.nativeOrder()));
            all.add(b);
            b.claim(count);
            return b;
        }
    }

    /** One reusable native buffer: claimed for a batch, free again once that batch's tensor is closed. */
    private final class InputBuffer {
        final ByteBuffer memory;
        private final FloatBuffer floats;
        private int count;
        private boolean claimed;
        private NDArray tensor;

        InputBuffer(ByteBuffer memory) {
            this.memory = memory;
            this.floats = memory.asFloatBuffer();
        }

        boolean isFree() {
            return !claimed && (tensor == null || tensor.isReleased());
        }

        void claim(int images) {
            count = images;
            claimed = true;
            tensor = null;
        }

        void free() {
            claimed = false;
        }

        /** Example {@code i}'s floats; the loaders put disjoint examples concurrently. */
        void put(int i, float[] input) {
            floats.put(i * 3 * crop * crop, input);
        }

        /** The (count, 3, crop, crop) inputs, on this buffer's memory. */
        NDArray tensor() {
            ByteBuffer view = memory.slice(0, count * 3 * crop * crop * Float.BYTES).order(ByteOrder.nativeOrder());
            tensor = manager.create(view, new Shape(count, 3, crop, crop), DataType.FLOAT32);
            claimed = false;
            return tensor;
        }
    }

    private RgbImage image(int index) {
        byte[] planes = new byte[images.imageBytes()];
        images.read(index, planes, 0);
        return new RgbImage(images.width(), images.height(), planes);
    }

    @Override
    public void close() {
        loaders.shutdownNow();
        labels.close();
    }
}
