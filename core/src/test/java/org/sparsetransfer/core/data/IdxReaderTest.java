package org.sparsetransfer.core.data;

import org.sparsetransfer.core.io.FileSource;
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

        ImageSet plain = IdxReader.read(FileSource.local(), "s", dir.resolve("img").toString(), dir.resolve("lbl").toString(), 9);
        ImageSet gzipped = IdxReader.read(FileSource.local(), "s", dir.resolve("img.gz").toString(), dir.resolve("lbl.gz").toString(), 9);

        assertEquals(images, plain);
        assertEquals(images, gzipped);
        assertArrayEquals(images.pixels(), plain.pixels());
    }

    @Test
    void rejectsWrongMagicNamingTheFile() throws IOException {
        write(dir.resolve("img"), imagesIdx(0x801, images.size()), false);
        write(dir.resolve("lbl"), labelsIdx(0x801, images.labels()), false);
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> IdxReader.read(FileSource.local(), "s", dir.resolve("img").toString(), dir.resolve("lbl").toString(), 9));
        assertTrue(e.getMessage().contains("magic number") && e.getMessage().contains(dir.resolve("img").toString()), e.getMessage());
    }

    @Test
    void rejectsTruncatedFile() throws IOException {
        byte[] full = imagesIdx(0x803, images.size());
        byte[] cut = java.util.Arrays.copyOf(full, full.length - 100);
        write(dir.resolve("img"), cut, false);
        write(dir.resolve("lbl"), labelsIdx(0x801, images.labels()), false);
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> IdxReader.read(FileSource.local(), "s", dir.resolve("img").toString(), dir.resolve("lbl").toString(), 9));
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
    }

    @Test
    void aDamagedCountInTheHeaderIsNamedBeforeAnythingIsAllocated() throws IOException {
        write(dir.resolve("img"), imagesIdx(0x803, images.size()), false);
        byte[] labels = labelsIdx(0x801, images.labels());
        labels[4] ^= (byte) 0x80; // one bit: count 37 -> 0x80000025, negative as an int
        write(dir.resolve("lbl"), labels, false);
        write(dir.resolve("lbl.gz"), labels, true);
        for (String name : new String[] {"lbl", "lbl.gz"}) {
            String message = assertThrows(InvalidInputException.class,
                    () -> IdxReader.read(FileSource.local(), "s", dir.resolve("img").toString(), dir.resolve(name).toString(), 9)).getMessage();
            assertTrue(message.startsWith("Corrupt dataset file " + dir.resolve(name) + ": its header gives -2147483611 labels"), message);
        }
        labels[4] ^= (byte) 0x80;
        labels[4] ^= (byte) 0x40; // 0x40000025: a billion labels claimed by a file of 45 bytes
        write(dir.resolve("lbl"), labels, false);
        write(dir.resolve("lbl.gz"), labels, true);
        String plain = assertThrows(InvalidInputException.class,
                () -> IdxReader.read(FileSource.local(), "s", dir.resolve("img").toString(), dir.resolve("lbl").toString(), 9)).getMessage();
        assertTrue(plain.contains("file is truncated: its header gives 1073741861 labels (1073741861 bytes after the 8-byte header) but the file holds "
                + "37 bytes after it"), plain);
        String gzipped = assertThrows(InvalidInputException.class,
                () -> IdxReader.read(FileSource.local(), "s", dir.resolve("img").toString(), dir.resolve("lbl.gz").toString(), 9)).getMessage();
        assertTrue(gzipped.contains("file is truncated: its header gives 1073741861 labels (1073741861 bytes) but only 37 follow"),
                gzipped);
    }

    @Test
    void imagesWhoseSizeDisagreesWithTheirHeaderAreNamed() throws IOException {
        byte[] idx = imagesIdx(0x803, images.size());
        idx[11] = 29; // 29 rows of 28: more bytes claimed than the file holds
        write(dir.resolve("img"), idx, false);
        write(dir.resolve("img.gz"), java.util.Arrays.copyOf(idx, idx.length + 5), true);
        write(dir.resolve("lbl"), labelsIdx(0x801, images.labels()), false);
        String plain = assertThrows(InvalidInputException.class,
                () -> IdxReader.read(FileSource.local(), "s", dir.resolve("img").toString(), dir.resolve("lbl").toString(), 9)).getMessage();
        assertTrue(plain.contains("its header gives 37 images of 29x28 pixels"), plain);
        idx[11] = 28;
        write(dir.resolve("img.gz"), java.util.Arrays.copyOf(idx, idx.length + 5), true);
        String trailing = assertThrows(InvalidInputException.class,
                () -> IdxReader.read(FileSource.local(), "s", dir.resolve("img.gz").toString(), dir.resolve("lbl").toString(), 9)).getMessage();
        assertTrue(trailing.contains("more data follows the 37 images of 28x28 pixels its header gives"), trailing);
    }

    @Test
    void rejectsLabelsOutOfRange() throws IOException {
        write(dir.resolve("img"), imagesIdx(0x803, images.size()), false);
        write(dir.resolve("lbl"), labelsIdx(0x801, images.labels()), false);
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> IdxReader.read(FileSource.local(), "s", dir.resolve("img").toString(), dir.resolve("lbl").toString(), 5));
        assertTrue(e.getMessage().contains("out of range"), e.getMessage());
    }

    @Test
    void missingFileSaysHowToGetIt() {
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> IdxReader.read(FileSource.local(), "s", dir.resolve("nope").toString(), dir.resolve("nope2").toString(), 10));
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
