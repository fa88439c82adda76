package org.sparsetransfer.core.data;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;

/**
 * Images in a local file, image {@code i} at byte {@code i * imageBytes}, each read by position
 * when a batch needs it: the operating system's page cache, not the heap, holds the split, so a
 * task's memory does not grow with it and any split size works. Made by {@link ImageWriter} for
 * a split over the data buffer; never leaves the JVM that wrote it (not serializable). The file
 * is deleted when no view of it is reachable any more (or at {@link #delete}), so a cache may
 * simply drop it.
 */
public final class SpilledImages implements ImageSource {
    private final SpillFile backing;
    private final String name;
    private final int channels;
    private final int height;
    private final int width;
    private final int numClasses;
    private final int[] labels;

    SpilledImages(Path file, String name, int channels, int height, int width, int numClasses, int[] labels) throws IOException {
        this(new SpillFile(file), name, channels, height, width, numClasses, labels);
        long expected = (long) labels.length * imageBytes();
        if (backing.size() != expected) {
            throw new IllegalStateException(file + " holds " + backing.size() + " bytes, not " + expected);
        }
    }

    private SpilledImages(SpillFile backing, String name, int channels, int height, int width, int numClasses, int[] labels) {
        ImageSource.checkLabels(name, labels, numClasses);
        this.backing = backing;
        this.name = name;
        this.channels = channels;
        this.height = height;
        this.width = width;
        this.numClasses = numClasses;
        this.labels = labels;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public int channels() {
        return channels;
    }

    @Override
    public int height() {
        return height;
    }

    @Override
    public int width() {
        return width;
    }

    @Override
    public int numClasses() {
        return numClasses;
    }

    @Override
    public int[] labels() {
        return labels;
    }

    /** The file holding the images. */
    public Path file() {
        return backing.path();
    }

    @Override
    public void read(int index, byte[] into, int offset) {
        int n = imageBytes();
        backing.read(ByteBuffer.wrap(into, offset, n).slice(), (long) index * n);
    }

    @Override
    public SpilledImages relabelled(String newName, int newNumClasses, int[] newLabels) {
        if (newLabels.length != labels.length) {
            throw new IllegalArgumentException(newLabels.length + " labels for " + labels.length + " images");
        }
        return new SpilledImages(backing, newName, channels, height, width, newNumClasses, newLabels);
    }

    /** Closes and deletes the file now (every view of it stops working). */
    public void delete() {
        backing.delete();
    }

    @Override
    public String toString() {
        return "SpilledImages[" + name + ", " + size() + " x " + channels + "x" + height + "x" + width + ", " + numClasses
                + " classes, " + backing.path() + "]";
    }
}
