package org.sparsetransfer.core.vision;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.OutputStream;
import java.nio.file.Path;
import org.sparsetransfer.core.io.FileSink;
import org.sparsetransfer.core.io.FileSource;
import java.util.SplittableRandom;
import javax.imageio.ImageIO;

/**
 * Small generated image datasets in the real on-disk formats (PNG ImageFolder trees, CIFAR-10
 * binary batches), for trying the image path without ImageNet and for its tests. Class
 * {@code c} is a noisy striped picture in colour {@code c} of a ten-colour palette, stripes
 * horizontal for even classes and vertical for odd ones: easy for a CNN, not for a constant.
 */
public final class SyntheticImages {
    private static final int[][] PALETTE = {
        {220, 40, 40}, {40, 200, 40}, {40, 60, 220}, {230, 210, 40}, {200, 40, 200},
        {40, 200, 210}, {240, 140, 30}, {120, 60, 20}, {150, 150, 150}, {20, 20, 20}};

    private SyntheticImages() {}

    /** One example of class {@code label} (0..9), {@code width} x {@code height}. */
    public static RgbImage image(int label, int width, int height, SplittableRandom random) {
        int[] colour = PALETTE[label % PALETTE.length];
        int period = 4 + random.nextInt(5);
        int phase = random.nextInt(period);
        boolean vertical = label % 2 == 1;
        byte[] planes = new byte[3 * width * height];
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                boolean stripe = ((vertical ? x : y) + phase) % period < period / 2;
                for (int c = 0; c < 3; c++) {
                    int value = (stripe ? colour[c] : colour[c] / 3) + random.nextInt(-25, 26);
                    planes[(c * height + y) * width + x] = (byte) Math.max(0, Math.min(255, value));
                }
            }
        }
        return new RgbImage(width, height, planes);
    }

    /**
     * An ImageNet-style tree: {@code root/train/class_k/*.png} with {@code trainPerClass} images per
     * class and {@code root/val/class_k/*.png} with {@code valPerClass}.
     */
    public static void imageFolder(Path root, int classes, int trainPerClass, int valPerClass, int width, int height, long seed) {
        imageFolder(FileSink.local(), root.toString(), classes, trainPerClass, valPerClass, width, height, seed);
    }

    /** As {@link #imageFolder(Path, int, int, int, int, int, long)}, written through {@code sink}. */
    public static void imageFolder(FileSink sink, String root, int classes, int trainPerClass, int valPerClass, int width, int height,
            long seed) {
        folders(sink, root, "val", classes, trainPerClass, valPerClass, width, height, seed);
    }

    /**
     * A task of the suite's {@code train/test} layout: {@code root/train/class_k/*.png} with
     * {@code trainPerClass} images per class and {@code root/test/class_k/*.png} with {@code testPerClass}.
     */
    public static void trainTestFolders(FileSink sink, String root, int classes, int trainPerClass, int testPerClass, int width,
            int height, long seed) {
        folders(sink, root, "test", classes, trainPerClass, testPerClass, width, height, seed);
    }

    private static void folders(FileSink sink, String root, String heldOut, int classes, int trainPerClass, int heldOutPerClass,
            int width, int height, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        for (String split : new String[] {"train", heldOut}) {
            int count = split.equals("train") ? trainPerClass : heldOutPerClass;
            for (int c = 0; c < classes; c++) {
                String dir = FileSource.resolve(FileSource.resolve(root, split), String.format("class_%02d", c));
                for (int i = 0; i < count; i++) {
                    write(sink, image(c, width, height, random), FileSource.resolve(dir, String.format("img_%04d.png", i)));
                }
            }
        }
    }

    /** CIFAR-10's binary layout: data_batch_1..5.bin of {@code perBatch} records each and test_batch.bin of {@code test}. */
    public static void cifar10(Path dir, int perBatch, int test, long seed) {
        cifar10(FileSink.local(), dir.toString(), perBatch, test, seed);
    }

    /** As {@link #cifar10(Path, int, int, long)}, written through {@code sink}. */
    public static void cifar10(FileSink sink, String dir, int perBatch, int test, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        for (int b = 1; b <= 6; b++) {
            int count = b <= 5 ? perBatch : test;
            byte[] records = new byte[count * 3073];
            for (int r = 0; r < count; r++) {
                int label = r % 10;
                records[r * 3073] = (byte) label;
                System.arraycopy(image(label, 32, 32, random).planes(), 0, records, r * 3073 + 1, 3072);
            }
            write(sink, records, FileSource.resolve(dir, b <= 5 ? "data_batch_" + b + ".bin" : "test_batch.bin"));
        }
    }

    private static void write(FileSink sink, RgbImage image, String file) {
        try (OutputStream out = sink.create(file)) {
            if (!ImageIO.write(image.toBufferedImage(), "png", out)) {
                throw new IOException("no PNG writer");
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot write " + file, e);
        }
    }

    private static void write(FileSink sink, byte[] bytes, String file) {
        try (OutputStream out = sink.create(file)) {
            out.write(bytes);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot write " + file, e);
        }
    }
}
