package org.sparsetransfer.core.data;

import org.sparsetransfer.core.io.FileSource;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sparsetransfer.core.InvalidInputException;

class DigitsAndSplitsTest {
    @TempDir
    Path dir;

    @Test
    void readsDigitsCsvAndScalesTo255() throws IOException {
        Path csv = dir.resolve("digits.csv.gz");
        StringBuilder sb = new StringBuilder();
        for (int row = 0; row < 20; row++) {
            for (int p = 0; p < 64; p++) {
                sb.append(p % 17).append(',');
            }
            sb.append(row % 10).append('\n');
        }
        try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(csv))) {
            out.write(sb.toString().getBytes(StandardCharsets.US_ASCII));
        }
        ImageSet digits = DigitsCsvReader.read(FileSource.local(), "digits", csv.toString());
        assertEquals(20, digits.size());
        assertEquals(8, digits.height());
        assertEquals(255, digits.pixels()[16] & 0xFF);
        assertEquals(0, digits.pixels()[0] & 0xFF);
        assertEquals(3, digits.labels()[13]);
    }

    @Test
    void rejectsDigitsLineWithWrongColumnCount() throws IOException {
        Path csv = dir.resolve("bad.csv");
        Files.writeString(csv, "1,2,3\n");
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> DigitsCsvReader.read(FileSource.local(), "d", csv.toString()));
        assertTrue(e.getMessage().contains("line 1 has 3 values"), e.getMessage());
    }

    @Test
    void resizeAndPadKeepsDigitsInsideTheFrame() {
        byte[] px = new byte[64];
        Arrays.fill(px, (byte) 200);
        ImageSet one = new ImageSet("d", 8, 8, 10, px, new int[] {4});
        ImageSet big = ImageOps.resizeAndPad(one, "d28", 20, 4);
        assertEquals(28, big.height());
        assertEquals(28, big.width());
        assertEquals(0, big.pixels()[0]);
        assertEquals(0, big.pixels()[3 * 28 + 14]);
        assertEquals(200, big.pixels()[14 * 28 + 14] & 0xFF);
        assertEquals(200, big.pixels()[4 * 28 + 4] & 0xFF);
    }

    @Test
    void splitsAreSeededDisjointAndSized() {
        int[][] a = Sampling.split(100, 30, 7);
        int[][] b = Sampling.split(100, 30, 7);
        assertArrayEquals(a[0], b[0]);
        assertEquals(30, a[0].length);
        assertEquals(70, a[1].length);
        Set<Integer> seen = new HashSet<>();
        Arrays.stream(a[0]).forEach(seen::add);
        Arrays.stream(a[1]).forEach(i -> assertTrue(seen.add(i), "index " + i + " is in both parts"));
        assertEquals(100, seen.size());
        assertTrue(!Arrays.equals(a[0], Sampling.split(100, 30, 8)[0]), "another seed gives another split");
    }

    @Test
    void perClassAndStratifiedSamplingRespectClasses() {
        int[] labels = new int[1000];
        for (int i = 0; i < labels.length; i++) {
            labels[i] = i % 10;
        }
        int[] few = Sampling.perClass(labels, 10, 7, 3);
        int[] counts = new int[10];
        Arrays.stream(few).forEach(i -> counts[labels[i]]++);
        assertArrayEquals(new int[] {7, 7, 7, 7, 7, 7, 7, 7, 7, 7}, counts);

        int[][] parts = Sampling.stratifiedSplit(labels, 10, 0.6, 3);
        int[] train = new int[10];
        Arrays.stream(parts[0]).forEach(i -> train[labels[i]]++);
        for (int c : train) {
            assertEquals(60, c);
        }
        assertEquals(400, parts[1].length);
    }
}
