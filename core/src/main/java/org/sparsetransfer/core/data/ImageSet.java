package org.sparsetransfer.core.data;

import java.io.Serializable;
import java.util.Arrays;
import org.sparsetransfer.core.InvalidInputException;

/**
 * Labelled images of one size, stored as unsigned bytes (0..255) in one flat array, each image
 * channel-planar (C, H, W): image {@code i} occupies {@code pixels[i*c*h*w .. (i+1)*c*h*w)}.
 * Grayscale (1 channel) for the demo's sets, RGB (3) for image datasets. Compact enough to ship
 * to executors.
 */
public record ImageSet(String name, int channels, int height, int width, int numClasses, byte[] pixels, int[] labels)
        implements ImageSource, Serializable {

    public ImageSet {
        if (channels <= 0 || height <= 0 || width <= 0) {
            throw new InvalidInputException(name + ": image size must be positive, got " + channels + "x" + height + "x" + width);
        }
        if ((long) labels.length * channels * height * width != pixels.length) {
            throw new InvalidInputException(name + ": " + pixels.length + " pixel bytes do not hold "
                    + labels.length + " images of " + channels + "x" + height + "x" + width);
        }
        ImageSource.checkLabels(name, labels, numClasses);
    }

    /** Single-channel images. */
    public ImageSet(String name, int height, int width, int numClasses, byte[] pixels, int[] labels) {
        this(name, 1, height, width, numClasses, pixels, labels);
    }

    @Override
    public void read(int index, byte[] into, int offset) {
        int n = imageBytes();
        System.arraycopy(pixels, Math.multiplyExact(index, n), into, offset, n);
    }

    /**
     * The bytes of {@code images} images of {@code imageBytes} each, as an array length: a set
     * held in memory is one array, so one over 2 GiB is refused (never an overflowed size). Splits
     * read from the datasets table never get here: one over the data buffer spills
     * ({@link ImageWriter}).
     */
    public static int byteCount(String name, long images, int imageBytes) {
        long bytes = images * imageBytes;
        if (bytes > MAX_BYTES) {
            throw new InvalidInputException(String.format("%s: %d images of %d bytes are %.2f GiB, more than the 2 GiB one split "
                    + "can hold in memory; lower its size or read it through an ImageWriter, which spills to a file",
                    name, images, imageBytes, bytes / (double) (1L << 30)));
        }
        return (int) bytes;
    }

    /** The largest Java array the JVM allocates (a few bytes under Integer.MAX_VALUE). */
    private static final long MAX_BYTES = Integer.MAX_VALUE - 8;

    /** The examples at {@code indices}, in that order. */
    public ImageSet subset(String subsetName, int[] indices) {
        int n = imageBytes();
        byte[] px = new byte[byteCount(subsetName, indices.length, n)];
        int[] lb = new int[indices.length];
        for (int j = 0; j < indices.length; j++) {
            System.arraycopy(pixels, indices[j] * n, px, j * n, n);
            lb[j] = labels[indices[j]];
        }
        return new ImageSet(subsetName, channels, height, width, numClasses, px, lb);
    }

    /** The same images with every pixel inverted (255 - p): a domain shift that keeps labels. */
    public ImageSet inverted(String invertedName) {
        byte[] px = pixels.clone();
        for (int i = 0; i < px.length; i++) {
            px[i] = (byte) (255 - (px[i] & 0xFF));
        }
        return new ImageSet(invertedName, channels, height, width, numClasses, px, labels);
    }

    @Override
    public ImageSet relabelled(String newName, int newNumClasses, int[] newLabels) {
        return new ImageSet(newName, channels, height, width, newNumClasses, pixels, newLabels);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ImageSet other
                && name.equals(other.name) && channels == other.channels && height == other.height && width == other.width
                && numClasses == other.numClasses && Arrays.equals(pixels, other.pixels)
                && Arrays.equals(labels, other.labels);
    }

    @Override
    public int hashCode() {
        return 31 * name.hashCode() + Arrays.hashCode(labels);
    }

    @Override
    public String toString() {
        return "ImageSet[" + name + ", " + size() + " x " + channels + "x" + height + "x" + width + ", " + numClasses + " classes]";
    }
}
