package org.sparsetransfer.core.data;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;
import org.sparsetransfer.core.InvalidInputException;

/**
 * Reads the IDX format of MNIST and Fashion-MNIST (images: magic 0x00000803, labels:
 * 0x00000801), gzipped or not: gzip is detected from the file's first two bytes, not its name.
 */
public final class IdxReader {
    private static final int UBYTE_IMAGES = 0x803;
    private static final int UBYTE_LABELS = 0x801;

    private IdxReader() {}

    public static ImageSet read(String name, Path images, Path labels, int numClasses) {
        int[] labelValues = readLabels(labels);
        try (DataInputStream in = open(images)) {
            int magic = in.readInt();
            if (magic != UBYTE_IMAGES) {
                throw corrupt(images, String.format("magic number 0x%08x, expected 0x%08x (IDX unsigned-byte images)",
                        magic, UBYTE_IMAGES));
            }
            int count = in.readInt();
            int rows = in.readInt();
            int cols = in.readInt();
            if (count != labelValues.length) {
                throw corrupt(images, count + " images but " + labels + " holds " + labelValues.length + " labels");
            }
            byte[] pixels = new byte[Math.multiplyExact(Math.multiplyExact(count, rows), cols)];
            in.readFully(pixels);
            return new ImageSet(name, rows, cols, numClasses, pixels, labelValues);
        } catch (EOFException e) {
            throw corrupt(images, "file is truncated");
        } catch (IOException e) {
            throw unreadable(images, e);
        }
    }

    private static int[] readLabels(Path labels) {
        try (DataInputStream in = open(labels)) {
            int magic = in.readInt();
            if (magic != UBYTE_LABELS) {
                throw corrupt(labels, String.format("magic number 0x%08x, expected 0x%08x (IDX unsigned-byte labels)",
                        magic, UBYTE_LABELS));
            }
            int count = in.readInt();
            byte[] raw = new byte[count];
            in.readFully(raw);
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

    static DataInputStream open(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new InvalidInputException("Dataset file not found: " + file
                    + " (run the data setup, or point the config's data paths at the files)");
        }
        InputStream raw = new BufferedInputStream(Files.newInputStream(file), 1 << 16);
        raw.mark(2);
        int b0 = raw.read();
        int b1 = raw.read();
        raw.reset();
        boolean gzip = b0 == 0x1f && b1 == 0x8b;
        return new DataInputStream(gzip ? new BufferedInputStream(new GZIPInputStream(raw), 1 << 16) : raw);
    }

    static InvalidInputException corrupt(Path file, String why) {
        return new InvalidInputException("Corrupt dataset file " + file + ": " + why
                + " (delete it and run the data setup again)");
    }

    static InvalidInputException unreadable(Path file, IOException e) {
        if (e instanceof NoSuchFileException) {
            return new InvalidInputException("Dataset file not found: " + file);
        }
        return new InvalidInputException("Cannot read dataset file " + file + ": " + e.getMessage()
                + " (delete it and run the data setup again)", e);
    }
}
