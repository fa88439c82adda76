package org.sparsetransfer.core.data;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.BitSet;
import org.sparsetransfer.core.vision.EncodedImages;
import org.sparsetransfer.core.vision.ImageEncoding;

/**
 * Collects a split's images as they are read, each at its position (rows arrive in file order,
 * not in the split's order). Raw images ({@link #put}) go into one heap array while the whole
 * split fits {@code bufferBytes} (and a Java array), else into a new file under {@code spillDir},
 * written by position, so no more than one image is held at a time; {@link #finish} gives an
 * {@link ImageSet} or {@link SpilledImages}. Encoded images ({@link #putEncoded}) stay encoded:
 * on the heap until their bytes pass the buffer, then appended to a file with each one's offset
 * ({@link EncodedImages}). Either way the images read back the same. The image size is the
 * first image's.
 */
public final class ImageWriter implements AutoCloseable {
    private final String name;
    private final int count;
    private final long bufferBytes;
    private final Path spillDir;
    private final int[] labels;
    private final BitSet written;
    private int channels;
    private int height;
    private int width;
    private int numClasses = -1;
    private byte[] pixels;
    private Path file;
    private FileChannel out;
    private boolean finished;
    // Encoded images: their encoding, and each one's bytes on the heap or its place in the file.
    private ImageEncoding encoding;
    private byte[][] records;
    private long heapBytes;
    private long[] offsets;
    private int[] lengths;
    private long fileEnd;

    public ImageWriter(String name, int count, long bufferBytes, Path spillDir) {
        if (count <= 0) {
            throw new IllegalArgumentException(name + ": no images to write");
        }
        this.name = name;
        this.count = count;
        this.bufferBytes = bufferBytes;
        this.spillDir = spillDir;
        this.labels = new int[count];
        this.written = new BitSet(count);
    }

    /** Image {@code position} of the split, of {@code channels}x{@code height}x{@code width} bytes. */
    public void put(int position, int label, int classes, int channels, int height, int width, byte[] image) throws IOException {
        if (numClasses < 0) {
            open(classes, channels, height, width, ImageEncoding.RAW);
        }
        check(position, classes, channels, height, width, ImageEncoding.RAW);
        int n = channels * height * width;
        if (image.length != n) {
            throw new IllegalStateException(name + ": image " + position + " has " + image.length + " bytes, not " + n);
        }
        if (out == null) {
            System.arraycopy(image, 0, pixels, position * n, n);
        } else {
            writeAt((long) position * n, image);
        }
        labels[position] = label;
        written.set(position);
    }

    /** Image {@code position} of the split as its stored {@code encoding} (an RGB JPEG or PNG of {@code height} x {@code width}). */
    public void putEncoded(int position, int label, int classes, int height, int width, ImageEncoding encoding, byte[] bytes)
            throws IOException {
        if (encoding == ImageEncoding.RAW) {
            put(position, label, classes, 3, height, width, bytes);
            return;
        }
        if (numClasses < 0) {
            open(classes, 3, height, width, encoding);
        }
        check(position, classes, 3, height, width, encoding);
        labels[position] = label;
        written.set(position);
        if (out == null) {
            records[position] = bytes;
            heapBytes += bytes.length;
            if (heapBytes > bufferBytes) {
                spillEncoded(); // this image included
            }
        } else {
            append(position, bytes);
        }
    }

    /** Moves the encoded images held so far into a new file; later ones are appended to it. */
    private void spillEncoded() throws IOException {
        openFile();
        offsets = new long[count];
        lengths = new int[count];
        for (int p = written.nextSetBit(0); p >= 0; p = written.nextSetBit(p + 1)) {
            append(p, records[p]);
        }
        records = null;
    }

    private void append(int position, byte[] bytes) throws IOException {
        writeAt(fileEnd, bytes);
        offsets[position] = fileEnd;
        lengths[position] = bytes.length;
        fileEnd += bytes.length;
    }

    private void writeAt(long at, byte[] bytes) throws IOException {
        ByteBuffer buffer = ByteBuffer.wrap(bytes);
        while (buffer.hasRemaining()) {
            out.write(buffer, at + buffer.position());
        }
    }

    private void check(int position, int classes, int channels, int height, int width, ImageEncoding encoding) {
        if (position < 0 || position >= count) {
            throw new IllegalArgumentException(name + ": no position " + position + " among " + count + " images");
        }
        ImageEncoding expected = this.encoding == null ? ImageEncoding.RAW : this.encoding;
        if (channels != this.channels || height != this.height || width != this.width || classes != numClasses || encoding != expected) {
            throw new IllegalStateException(String.format("%s: image %d is %dx%dx%d %s of %d classes after images of %dx%dx%d %s of %d classes",
                    name, position, channels, height, width, encoding.key(), classes, this.channels, this.height, this.width,
                    expected.key(), numClasses));
        }
        if (written.get(position)) {
            throw new IllegalArgumentException(name + ": image " + position + " written twice");
        }
    }

    /** Takes the split's image size from its first image, and where raw images go: the heap or a file. */
    private void open(int classes, int channels, int height, int width, ImageEncoding encoding) throws IOException {
        if (channels <= 0 || height <= 0 || width <= 0) {
            throw new org.sparsetransfer.core.InvalidInputException(name + ": image size must be positive, got " + channels + "x"
                    + height + "x" + width);
        }
        this.numClasses = classes;
        this.channels = channels;
        this.height = height;
        this.width = width;
        if (encoding != ImageEncoding.RAW) {
            this.encoding = encoding;
            this.records = new byte[count][];
            return;
        }
        long bytes = (long) count * channels * height * width;
        if (bytes <= bufferBytes && bytes <= Integer.MAX_VALUE - 8) {
            pixels = new byte[(int) bytes];
        } else {
            openFile();
        }
    }

    private void openFile() throws IOException {
        Files.createDirectories(spillDir);
        file = Files.createTempFile(spillDir, "images-", "." + (encoding == null ? "u8" : encoding.key()));
        out = FileChannel.open(file, StandardOpenOption.WRITE);
    }

    /** Whether the images go to a file rather than the heap (known after the first {@link #put}). */
    public boolean spills() {
        return out != null;
    }

    /** The images, once every position was written. */
    public ImageSource finish() throws IOException {
        if (written.cardinality() != count) {
            throw new IllegalStateException(name + ": image " + written.nextClearBit(0) + " of " + count + " was never written");
        }
        ImageSource images;
        if (encoding != null) {
            if (out != null) {
                out.close();
            }
            images = out == null ? EncodedImages.onHeap(name, height, width, numClasses, labels, encoding, records)
                    : EncodedImages.spilled(name, height, width, numClasses, labels, encoding, new SpillFile(file), offsets, lengths);
        } else if (out == null) {
            images = new ImageSet(name, channels, height, width, numClasses, pixels, labels);
        } else {
            out.close();
            images = new SpilledImages(file, name, channels, height, width, numClasses, labels);
        }
        finished = true;
        return images;
    }

    /** Deletes a spilled file unless {@link #finish} handed it over (a read that failed). */
    @Override
    public void close() {
        if (finished || file == null) {
            return;
        }
        try {
            out.close();
            Files.deleteIfExists(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete spilled images " + file, e);
        }
    }
}
