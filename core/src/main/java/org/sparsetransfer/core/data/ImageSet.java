package org.sparsetransfer.core.data;

import java.io.Serializable;
import java.util.Arrays;
import org.sparsetransfer.core.InvalidInputException;

/**
 * Labelled single-channel images of one size, stored as unsigned bytes (0..255) in one flat
 * array: image {@code i} occupies {@code pixels[i*h*w .. (i+1)*h*w)}. Compact enough to ship
 * to executors and uploaded to the engine once per training run.
 */
public record ImageSet(String name, int height, int width, int numClasses, byte[] pixels, int[] labels)
        implements Serializable {

    public ImageSet {
        if (height <= 0 || width <= 0) {
            throw new InvalidInputException(name + ": image size must be positive, got " + height + "x" + width);
        }
        if ((long) labels.length * height * width != pixels.length) {
            throw new InvalidInputException(name + ": " + pixels.length + " pixel bytes do not hold "
                    + labels.length + " images of " + height + "x" + width);
        }
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0 || labels[i] >= numClasses) {
                throw new InvalidInputException(name + ": label " + labels[i] + " of example " + i
                        + " is out of range; expected 0.." + (numClasses - 1));
            }
        }
    }

    public int size() {
        return labels.length;
    }

    public int imageBytes() {
        return height * width;
    }

    /** The examples at {@code indices}, in that order. */
    public ImageSet subset(String subsetName, int[] indices) {
        int n = imageBytes();
        byte[] px = new byte[indices.length * n];
        int[] lb = new int[indices.length];
        for (int j = 0; j < indices.length; j++) {
            System.arraycopy(pixels, indices[j] * n, px, j * n, n);
            lb[j] = labels[indices[j]];
        }
        return new ImageSet(subsetName, height, width, numClasses, px, lb);
    }

    /** The same images with every pixel inverted (255 - p): a domain shift that keeps labels. */
    public ImageSet inverted(String invertedName) {
        byte[] px = pixels.clone();
        for (int i = 0; i < px.length; i++) {
            px[i] = (byte) (255 - (px[i] & 0xFF));
        }
        return new ImageSet(invertedName, height, width, numClasses, px, labels);
    }

    /** Number of examples per class. */
    public int[] classCounts() {
        int[] counts = new int[numClasses];
        for (int label : labels) {
            counts[label]++;
        }
        return counts;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ImageSet other
                && name.equals(other.name) && height == other.height && width == other.width
                && numClasses == other.numClasses && Arrays.equals(pixels, other.pixels)
                && Arrays.equals(labels, other.labels);
    }

    @Override
    public int hashCode() {
        return 31 * name.hashCode() + Arrays.hashCode(labels);
    }

    @Override
    public String toString() {
        return "ImageSet[" + name + ", " + size() + " x " + height + "x" + width + ", " + numClasses + " classes]";
    }
}
