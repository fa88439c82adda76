package org.sparsetransfer.core.vision;

import java.nio.ByteBuffer;
import org.sparsetransfer.core.data.ImageSource;
import org.sparsetransfer.core.data.ImageWriter;
import org.sparsetransfer.core.data.SpillFile;

/**
 * RGB images kept as their stored JPEG or PNG bytes (a tenth of the raw size for JPEG) and
 * decoded when a batch reads them: on the heap, one array per image, or in a local
 * {@link SpillFile} with each image's offset and length when the encoded split is over the data
 * buffer. Made by {@link ImageWriter}; decoding is safe from several threads (the input
 * pipeline's loaders).
 */
public final class EncodedImages implements ImageSource {
    private final String name;
    private final int height;
    private final int width;
    private final int numClasses;
    private final int[] labels;
    private final ImageEncoding encoding;
    private final byte[][] records;
    private final SpillFile file;
    private final long[] offsets;
    private final int[] lengths;

    private EncodedImages(String name, int height, int width, int numClasses, int[] labels, ImageEncoding encoding, byte[][] records,
            SpillFile file, long[] offsets, int[] lengths) {
        ImageSource.checkLabels(name, labels, numClasses);
        this.name = name;
        this.height = height;
        this.width = width;
        this.numClasses = numClasses;
        this.labels = labels;
        this.encoding = encoding;
        this.records = records;
        this.file = file;
        this.offsets = offsets;
        this.lengths = lengths;
    }

    /** Images held as one encoded array each, by position. */
    public static EncodedImages onHeap(String name, int height, int width, int numClasses, int[] labels, ImageEncoding encoding,
            byte[][] records) {
        return new EncodedImages(name, height, width, numClasses, labels, encoding, records, null, null, null);
    }

    /** Images in {@code file}, image {@code i}'s bytes at {@code offsets[i]}, {@code lengths[i]} long. */
    public static EncodedImages spilled(String name, int height, int width, int numClasses, int[] labels, ImageEncoding encoding,
            SpillFile file, long[] offsets, int[] lengths) {
        return new EncodedImages(name, height, width, numClasses, labels, encoding, null, file, offsets, lengths);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public int channels() {
        return 3;
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

    public ImageEncoding encoding() {
        return encoding;
    }

    /** Whether the encoded images are in a local file rather than on the heap. */
    public boolean spilled() {
        return file != null;
    }

    /** The stored bytes of image {@code index}. */
    public byte[] encoded(int index) {
        if (file == null) {
            return records[index];
        }
        byte[] bytes = new byte[lengths[index]];
        file.read(ByteBuffer.wrap(bytes), offsets[index]);
        return bytes;
    }

    @Override
    public void read(int index, byte[] into, int offset) {
        RgbImage image = encoding.decode(encoded(index), width, height, name + " image " + index);
        System.arraycopy(image.planes(), 0, into, offset, image.planes().length);
    }

    @Override
    public EncodedImages relabelled(String newName, int newNumClasses, int[] newLabels) {
        if (newLabels.length != labels.length) {
            throw new IllegalArgumentException(newLabels.length + " labels for " + labels.length + " images");
        }
        return new EncodedImages(newName, height, width, newNumClasses, newLabels, encoding, records, file, offsets, lengths);
    }

    @Override
    public String toString() {
        return "EncodedImages[" + name + ", " + size() + " x 3x" + height + "x" + width + " " + encoding.key() + ", " + numClasses
                + " classes" + (file == null ? "" : ", " + file.path()) + "]";
    }
}
