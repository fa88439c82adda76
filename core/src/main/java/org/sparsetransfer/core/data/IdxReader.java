package org.sparsetransfer.core.data;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.NoSuchFileException;
import java.util.zip.GZIPInputStream;
import org.sparsetransfer.core.InvalidInputException;
import org.sparsetransfer.core.IoErrors;
import org.sparsetransfer.core.io.FileSource;

/**
 * Reads the IDX format of MNIST and Fashion-MNIST (images: magic 0x00000803, labels:
 * 0x00000801), gzipped or not: gzip is detected from the file's first two bytes, not its name.
 */
public final class IdxReader {
    private static final int UBYTE_IMAGES = 0x803;
    private static final int UBYTE_LABELS = 0x801;
    private static final int IMAGES_HEADER = 16;
    private static final int LABELS_HEADER = 8;
    /** The most bytes one Java array holds. */
    private static final long MAX_ARRAY = Integer.MAX_VALUE - 8;

    private IdxReader() {}

    public static ImageSet read(FileSource files, String name, String images, String labels, int numClasses) {
        int[] labelValues = readLabels(files, labels);
        try (Source in = open(files, images)) {
            int magic = in.data().readInt();
            if (magic != UBYTE_IMAGES) {
                throw corrupt(images, String.format("magic number 0x%08x, expected 0x%08x (IDX unsigned-byte images)",
                        magic, UBYTE_IMAGES));
            }
            int count = in.data().readInt();
            int rows = in.data().readInt();
            int cols = in.data().readInt();
            if (count < 0 || rows <= 0 || cols <= 0) {
                throw corrupt(images, "its header gives " + count + " images of " + rows + "x" + cols + " pixels");
            }
            if (count != labelValues.length) {
                throw corrupt(images, count + " images but " + labels + " holds " + labelValues.length + " labels");
            }
            long bytes = (long) count * rows * cols;
            byte[] pixels = in.payload(IMAGES_HEADER, bytes, count + " images of " + rows + "x" + cols + " pixels");
            return new ImageSet(name, rows, cols, numClasses, pixels, labelValues);
        } catch (EOFException e) {
            throw corrupt(images, "file is truncated");
        } catch (IOException e) {
            throw unreadable(images, e);
        }
    }

    private static int[] readLabels(FileSource files, String labels) {
        try (Source in = open(files, labels)) {
            int magic = in.data().readInt();
            if (magic != UBYTE_LABELS) {
                throw corrupt(labels, String.format("magic number 0x%08x, expected 0x%08x (IDX unsigned-byte labels)",
                        magic, UBYTE_LABELS));
            }
            int count = in.data().readInt();
            if (count < 0) {
                throw corrupt(labels, "its header gives " + count + " labels");
            }
            byte[] raw = in.payload(LABELS_HEADER, count, count + " labels");
            int[] values = new int[count];
            for (int i = 0; i < count; i++) {
                values[i] = raw[i] & 0xFF;
            }
            return values;
        } catch (EOFException e) {
            throw corrupt(labels, "file is truncated");
        } catch (IOException e) {
            throw unreadable(labels, e);
        }
    }

    /**
     * An opened IDX file: its stream, and its length when it is stored uncompressed (-1 when
     * gzipped, whose length says nothing about the content).
     */
    record Source(String file, DataInputStream data, long length) implements AutoCloseable {
        /**
         * The {@code bytes} after a {@code header}-byte header, as the header claims them. The
         * claim is checked before anything is allocated: against the file's length when it is
         * known, and by reading in bounded chunks otherwise (a gzipped file), so that a damaged
         * count ends in a clear error rather than a huge allocation.
         */
        byte[] payload(int header, long bytes, String claim) throws IOException {
            if (length >= 0 && header + bytes != length) {
                throw corrupt(file, (header + bytes > length ? "file is truncated: " : "") + "its header gives " + claim + " ("
                        + bytes + " bytes after the " + header + "-byte header) but the file holds " + (length - header)
                        + " bytes after it");
            }
            if (bytes > MAX_ARRAY) {
                throw corrupt(file, "its header gives " + claim + ", " + bytes + " bytes, more than one array holds");
            }
            byte[] read = data.readNBytes((int) bytes); // grows in chunks as bytes arrive
            if (read.length < bytes) {
                throw corrupt(file, "file is truncated: its header gives " + claim + " (" + bytes + " bytes) but only "
                        + read.length + " follow");
            }
            if (data.read() != -1) {
                throw corrupt(file, "more data follows the " + claim + " its header gives");
            }
            return read;
        }

        @Override
        public void close() throws IOException {
            data.close();
        }
    }

    static Source open(FileSource files, String file) throws IOException {
        if (!files.isFile(file)) {
            throw new InvalidInputException("Dataset file not found: " + file
                    + " (run the data setup, or point the config's data paths at the files)");
        }
        InputStream raw = new BufferedInputStream(files.open(file), 1 << 16);
        raw.mark(2);
        int b0 = raw.read();
        int b1 = raw.read();
        raw.reset();
        boolean gzip = b0 == 0x1f && b1 == 0x8b;
        return new Source(file, new DataInputStream(gzip ? new BufferedInputStream(new GZIPInputStream(raw), 1 << 16) : raw),
                gzip ? -1 : files.length(file));
    }

    static InvalidInputException corrupt(String file, String why) {
        return new InvalidInputException("Corrupt dataset file " + file + ": " + why
                + " (in the data cache, delete it and the next ingest fetches it again; elsewhere, replace it with an intact copy)");
    }

    static InvalidInputException unreadable(String file, IOException e) {
        if (e instanceof NoSuchFileException || e instanceof java.io.FileNotFoundException) {
            return new InvalidInputException("Dataset file not found: " + file);
        }
        return new InvalidInputException("Cannot read dataset file " + file + ": " + IoErrors.describe(e)
                + " (in the data cache, delete it and the next ingest fetches it again; elsewhere, replace it with an intact copy)", e);
    }
}
