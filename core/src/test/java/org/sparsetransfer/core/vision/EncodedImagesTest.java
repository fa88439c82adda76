package org.sparsetransfer.core.vision;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sparsetransfer.core.InvalidInputException;
import org.sparsetransfer.core.config.ExperimentConfig;
import org.sparsetransfer.core.config.ExperimentIds;
import org.sparsetransfer.core.data.ImageSource;
import org.sparsetransfer.core.data.ImageWriter;
import org.sparsetransfer.core.train.TrainingData;

/**
 * Images stored encoded: PNG is exact, JPEG close and a fraction of the raw bytes; a split of
 * encoded images stays encoded on the heap or spills to a file (also after part of it was held),
 * reads back as its images decoded; and the loader threads give the same batches as one thread.
 */
class EncodedImagesTest {
    private static final int SIDE = 64;

    @TempDir
    Path dir;

    @Test
    void pngIsExactJpegIsCloseAndSmallRawIsTheBytes() {
        RgbImage image = SyntheticImages.image(3, SIDE, SIDE, new SplittableRandom(1));
        assertArrayEquals(image.planes(), ImageEncoding.PNG.decode(ImageEncoding.PNG.encode(image), SIDE, SIDE, "png").planes());
        assertArrayEquals(image.planes(), ImageEncoding.RAW.decode(ImageEncoding.RAW.encode(image), SIDE, SIDE, "raw").planes());
        byte[] jpeg = ImageEncoding.JPEG.encode(image);
        assertTrue(jpeg.length < image.planes().length / 2, "JPEG takes " + jpeg.length + " of " + image.planes().length + " bytes");
        // On a smooth, photograph-like image JPEG at quality 90 is within about a level; on pixel noise, which it drops, more.
        RgbImage smooth = smooth();
        assertTrue(meanError(smooth, ImageEncoding.JPEG) < 1.5, "mean error " + meanError(smooth, ImageEncoding.JPEG));
        assertTrue(meanError(image, ImageEncoding.JPEG) < 20, "mean error on noisy stripes " + meanError(image, ImageEncoding.JPEG));
        IllegalStateException size = assertThrows(IllegalStateException.class, () -> ImageEncoding.JPEG.decode(jpeg, 32, SIDE, "a row"));
        assertTrue(size.getMessage().contains("a row decodes to 64x64, stored as 32x64"), size.getMessage());
        InvalidInputException unknown = assertThrows(InvalidInputException.class, () -> ImageEncoding.parse("webp", "data.images.storage"));
        assertTrue(unknown.getMessage().contains("'webp' at data.images.storage; expected one of [raw, png, jpeg]"), unknown.getMessage());
    }

    @Test
    void encodedSplitsStayEncodedOnTheHeapOrSpillAndReadBackDecoded() throws Exception {
        int n = 30;
        RgbImage[] images = new RgbImage[n];
        byte[][] jpegs = new byte[n][];
        int[] labels = new int[n];
        long total = 0;
        for (int i = 0; i < n; i++) {
            labels[i] = i % 5;
            images[i] = SyntheticImages.image(labels[i], SIDE, SIDE, new SplittableRandom(i));
            jpegs[i] = ImageEncoding.JPEG.encode(images[i]);
            total += jpegs[i].length;
        }
        // On the heap; spilled from the first image; spilled once a third of the split's bytes were held.
        for (long buffer : new long[] {Long.MAX_VALUE, 1, total / 3}) {
            ImageSource read;
            try (ImageWriter writer = new ImageWriter("e", n, buffer, dir)) {
                for (int i = n - 1; i >= 0; i--) {
                    writer.putEncoded(i, labels[i], 5, SIDE, SIDE, ImageEncoding.JPEG, jpegs[i]);
                }
                assertEquals(buffer != Long.MAX_VALUE, writer.spills(), "buffer " + buffer);
                read = writer.finish();
            }
            EncodedImages encoded = (EncodedImages) read;
            assertEquals(buffer != Long.MAX_VALUE, encoded.spilled());
            assertArrayEquals(labels, encoded.labels());
            byte[] one = new byte[encoded.imageBytes()];
            for (int i = 0; i < n; i++) {
                assertArrayEquals(jpegs[i], encoded.encoded(i), "image " + i + "'s stored bytes, buffer " + buffer);
                encoded.read(i, one, 0);
                assertArrayEquals(ImageEncoding.JPEG.decode(jpegs[i], SIDE, SIDE, "expected").planes(), one, "image " + i);
            }
            assertArrayEquals(encoded.encoded(7), encoded.relabelled("r", 2, new int[n]).encoded(7));
        }
        Path abandoned = dir.resolve("abandoned");
        try (ImageWriter writer = new ImageWriter("e", 2, 1, abandoned)) {
            writer.putEncoded(0, 0, 5, SIDE, SIDE, ImageEncoding.JPEG, jpegs[0]);
            IllegalStateException mixed = assertThrows(IllegalStateException.class,
                    () -> writer.putEncoded(1, 0, 5, SIDE, SIDE, ImageEncoding.PNG, ImageEncoding.PNG.encode(images[1])));
            assertTrue(mixed.getMessage().contains("3x64x64 png of 5 classes after images of 3x64x64 jpeg"), mixed.getMessage());
        }
        try (var left = Files.list(abandoned)) {
            assertEquals(0, left.count(), "an abandoned write deletes its spilled file");
        }
    }

    @Test
    void loaderThreadsGiveTheSameBatchesAsOneThread() throws Exception {
        int n = 24;
        byte[][] jpegs = new byte[n][];
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            labels[i] = i % 4;
            jpegs[i] = ImageEncoding.JPEG.encode(SyntheticImages.image(labels[i], 40, 40, new SplittableRandom(i)));
        }
        EncodedImages images = EncodedImages.onHeap("e", 40, 40, 4, labels, ImageEncoding.JPEG, jpegs);
        long[] batch = {3, 17, 5, 5, 22, 0, 9, 11};
        try (NDManager manager = NDManager.newBaseManager(Device.cpu());
                TrainingData one = new AugmentedImages(manager, images, 32, Resampling.Filter.BILINEAR, Augmentation.Normalization.IMAGENET, 1);
                TrainingData three = new AugmentedImages(manager, images, 32, Resampling.Filter.BILINEAR, Augmentation.Normalization.IMAGENET, 3)) {
            NDArray[] a = one.batch(batch, 7, 2);
            NDArray[] b = three.batch(batch, 7, 2);
            assertArrayEquals(a[0].toFloatArray(), b[0].toFloatArray());
            assertArrayEquals(a[1].toLongArray(), b[1].toLongArray());
            assertArrayEquals(one.range(2, 20)[0].toFloatArray(), three.range(2, 20)[0].toFloatArray());
            assertFalse(java.util.Arrays.equals(a[0].toFloatArray(), one.batch(batch, 7, 3)[0].toFloatArray()), "another epoch, other crops");
            long[] next = {1, 2, 3, 4};
            three.prefetch(next, 7, 2);
            assertArrayEquals(one.batch(next, 7, 2)[0].toFloatArray(), three.batch(next, 7, 2)[0].toFloatArray(), "a prefetched batch");
            three.prefetch(next, 7, 2);
            assertArrayEquals(a[0].toFloatArray(), three.batch(batch, 7, 2)[0].toFloatArray(), "a batch other than the prefetched one");
            // Inputs live in reused native buffers: one still open is never overwritten by later batches, a closed one's is reused.
            float[] kept = a[0].toFloatArray();
            for (int epoch = 3; epoch < 7; epoch++) {
                one.batch(batch, 7, epoch)[0].close();
                one.range(0, 8)[0].close();
            }
            assertArrayEquals(kept, a[0].toFloatArray(), "an open batch keeps its inputs");
        }
    }

    /** The training loop prefetches every next batch: with one loader thread or three, it trains as without prefetching, bit for bit. */
    @Test
    void prefetchingLoadersTrainExactlyAsWithoutThem() throws Exception {
        int n = 48;
        byte[][] jpegs = new byte[n][];
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            labels[i] = i % 4;
            jpegs[i] = ImageEncoding.JPEG.encode(SyntheticImages.image(labels[i], 36, 36, new SplittableRandom(i)));
        }
        EncodedImages images = EncodedImages.onHeap("e", 36, 36, 4, labels, ImageEncoding.JPEG, jpegs);
        org.sparsetransfer.core.model.Weights plain = train(images, 1, false);
        assertEquals(plain, train(images, 1, true), "one loader thread, prefetching");
        assertEquals(plain, train(images, 3, true), "three loader threads, prefetching");
    }

    private static org.sparsetransfer.core.model.Weights train(EncodedImages images, int threads, boolean prefetch) throws Exception {
        return org.sparsetransfer.core.model.TorchThreads.exclusive(() -> {
            try (org.sparsetransfer.core.model.Network net = org.sparsetransfer.core.model.Network.classifier(
                    org.sparsetransfer.core.model.ResNet.resnet18(32), 4, 0, Device.cpu());
                    AugmentedImages augmented = new AugmentedImages(net.manager(), images, 32, Resampling.Filter.BILINEAR,
                            Augmentation.Normalization.IMAGENET, threads);
                    TrainingData data = prefetch ? augmented : withoutPrefetch(augmented)) {
                new org.sparsetransfer.core.train.TrainingLoop(new org.sparsetransfer.core.train.TrainingLoop.Settings(8, 0.9f, 5e-4f, 3),
                        org.sparsetransfer.core.train.TrainingLoop.Progress.SILENT).run(net, data,
                        org.sparsetransfer.core.train.TrainingSchedule.fixedMask(8,
                                org.sparsetransfer.core.train.TrainingSchedule.LearningRate.linear(0.05f, 0f)), null);
                return net.weights();
            }
        });
    }

    /** {@code data} with its prefetch hint ignored. */
    private static TrainingData withoutPrefetch(TrainingData data) {
        return new TrainingData() {
            public int size() {
                return data.size();
            }

            public int numClasses() {
                return data.numClasses();
            }

            public int[] labelValues() {
                return data.labelValues();
            }

            public NDArray[] batch(long[] indices, long seed, int epoch) {
                return data.batch(indices, seed, epoch);
            }

            public NDArray[] range(int from, int to) {
                return data.range(from, to);
            }

            public void close() {}
        };
    }

    @Test
    void howImagesAreStoredIsPartOfTheDataIdentityAndTheLoaderThreadsAreNot() {
        ExperimentConfig jpeg = images();
        ExperimentConfig raw = images();
        raw.data.images.storage = "raw";
        ExperimentConfig threads = images();
        threads.data.images.loaderThreads = 8;
        assertNotEquals(new ExperimentIds(jpeg).dataHash(), new ExperimentIds(raw).dataHash());
        assertEquals(new ExperimentIds(jpeg).dataHash(), new ExperimentIds(threads).dataHash());
    }

    /** Mean absolute difference, in levels of 255, between {@code image} and its round trip through {@code encoding}. */
    private static double meanError(RgbImage image, ImageEncoding encoding) {
        byte[] back = encoding.decode(encoding.encode(image), image.width(), image.height(), "round trip").planes();
        double error = 0;
        for (int i = 0; i < back.length; i++) {
            error += Math.abs((back[i] & 0xFF) - (image.planes()[i] & 0xFF));
        }
        return error / back.length;
    }

    /** Gradients and a soft disc: the low frequencies photographs are made of. */
    private static RgbImage smooth() {
        byte[] planes = new byte[3 * SIDE * SIDE];
        for (int y = 0; y < SIDE; y++) {
            for (int x = 0; x < SIDE; x++) {
                double r = Math.hypot(x - 40, y - 24) / 20.0;
                double disc = 1 / (1 + Math.exp(4 * (r - 1)));
                planes[y * SIDE + x] = (byte) (40 + 2 * x + 60 * disc);
                planes[SIDE * SIDE + y * SIDE + x] = (byte) (30 + 2 * y + 40 * disc);
                planes[2 * SIDE * SIDE + y * SIDE + x] = (byte) (200 - x - y + 30 * disc);
            }
        }
        return new RgbImage(SIDE, SIDE, planes);
    }

    private static ExperimentConfig images() {
        ExperimentConfig config = new ExperimentConfig();
        config.data.source = org.sparsetransfer.core.config.DataSource.IMAGES;
        config.data.images.upstream = "/data/imagenet";
        return config;
    }
}
