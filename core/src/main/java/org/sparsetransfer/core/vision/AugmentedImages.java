package org.sparsetransfer.core.vision;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
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

    private record Prefetched(long[] indices, long seed, int epoch, java.util.concurrent.Future<float[]> inputs) {
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
        float[] inputs;
        if (pending != null && pending.is(indices, seed, epoch)) {
            inputs = await(pending.inputs());
        } else {
            inputs = trainingInputs(indices, seed, epoch);
        }
        pending = null;
        return new NDArray[] {tensor(inputs, indices.length), labels.get(manager.create(indices))};
    }

    @Override
    public void prefetch(long[] indices, long seed, int epoch) {
        long[] copy = indices.clone();
        pending = new Prefetched(copy, seed, epoch, loaders.submit(() -> trainingInputs(copy, seed, epoch)));
    }

    /** The examples' random crops and flips, normalized, one after another. */
    private float[] trainingInputs(long[] indices, long seed, int epoch) {
        int per = 3 * crop * crop;
        float[] inputs = new float[Math.multiplyExact(indices.length, per)];
        forEach(indices.length, i -> {
            int index = Math.toIntExact(indices[i]);
            float[] one = Augmentation.train(image(index), crop, Augmentation.random(seed, epoch, index), filter, normalization);
            System.arraycopy(one, 0, inputs, i * per, per);
        });
        return inputs;
    }

    @Override
    public NDArray[] range(int from, int to) {
        int per = 3 * crop * crop;
        float[] inputs = new float[Math.multiplyExact(to - from, per)];
        int side = Math.min(images.height(), images.width());
        forEach(to - from, i -> System.arraycopy(Augmentation.test(image(from + i), side, crop, filter, normalization), 0, inputs,
                i * per, per));
        return new NDArray[] {tensor(inputs, to - from), labels.get(from + ":" + to)};
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

    private NDArray tensor(float[] inputs, int count) {
        return manager.create(FloatBuffer.wrap(inputs), new Shape(count, 3, crop, crop));
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
