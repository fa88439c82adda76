package org.sparsetransfer.core.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sparsetransfer.core.InvalidInputException;
import org.sparsetransfer.core.Synthetic;

class IdxReaderTest {
    @TempDir
    Path dir;

    private final ImageSet images = Synthetic.squares("s", 37, 9, 1, 0);

    @Test
    void readsPlainAndGzippedFilesAlike() throws IOException {
        write(dir.resolve("img"), imagesIdx(0x803, images.size()), false);
        write(dir.resolve("lbl"), labelsIdx(0x801, images.labels()), false);
        write(dir.resolve("img.gz"), imagesIdx(0x803, images.size()), true);
        write(dir.resolve("lbl.gz"), labelsIdx(0x801, images.labels()), true);

        ImageSet plain = IdxReader.read("s", dir.resolve("img"), dir.resolve("lbl"), 9);
        ImageSet gzipped = IdxReader.read("s", dir.resolve("img.gz"), dir.resolve("lbl.gz"), 9);

        assertEquals(images, plain);
        assertEquals(images, gzipped);
        assertArrayEquals(images.pixels(), plain.pixels());
    }

    @Test
    void rejectsWrongMagicNamingTheFile() throws IOException {
        write(dir.resolve("img"), imagesIdx(0x801, images.size()), false);
        write(dir.resolve("lbl"), labelsIdx(0x801, images.labels()), false);
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> IdxReader.read("s", dir.resolve("img"), dir.resolve("lbl"), 9));
        assertTrue(e.getMessage().contains("magic number") && e.getMessage().contains(dir.resolve("img").toString()), e.getMessage());
    }

    @Test
    void rejectsTruncatedFile() throws IOException {
        byte[] full = imagesIdx(0x803, images.size());
        byte[] cut = java.util.Arrays.copyOf(full, full.length - 100);
        write(dir.resolve("img"), cut, false);
        write(dir.resolve("lbl"), labelsIdx(0x801, images.labels()), false);
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> IdxReader.read("s", dir.resolve("img"), dir.resolve("lbl"), 9));
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
    }

    @Test
    void rejectsLabelsOutOfRange() throws IOException {
        write(dir.resolve("img"), imagesIdx(0x803, images.size()), false);
        write(dir.resolve("lbl"), labelsIdx(0x801, images.labels()), false);
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> IdxReader.read("s", dir.resolve("img"), dir.resolve("lbl"), 5));
        assertTrue(e.getMessage().contains("out of range"), e.getMessage());
    }

    @Test
    void missingFileSaysHowToGetIt() {
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> IdxReader.read("s", dir.resolve("nope"), dir.resolve("nope2"), 10));
        assertTrue(e.getMessage().startsWith("Dataset file not found"), e.getMessage());
    }

    private byte[] imagesIdx(int magic, int count) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bytes);
        out.writeInt(magic);
        out.writeInt(count);
        out.writeInt(28);
        out.writeInt(28);
        out.write(images.pixels());
        return bytes.toByteArray();
    }

    private static byte[] labelsIdx(int magic, int[] labels) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bytes);
        out.writeInt(magic);
        out.writeInt(labels.length);
        for (int label : labels) {
            out.writeByte(label);
        }
        return bytes.toByteArray();
    }

    private static void write(Path file, byte[] content, boolean gzip) throws IOException {
        try (OutputStream out = gzip ? new GZIPOutputStream(Files.newOutputStream(file)) : Files.newOutputStream(file)) {
            out.write(content);
        }
    }
}
