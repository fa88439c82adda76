package org.sparsetransfer.core.data;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.sparsetransfer.core.io.FileSource;

/**
 * Reads scikit-learn's {@code digits.csv.gz}: one 8x8 image per line, 64 pixel values in
 * 0..16, then the label 0..9. Pixels are rescaled to 0..255.
 */
public final class DigitsCsvReader {
    public static final int SIDE = 8;
    private static final int PIXELS = SIDE * SIDE;
    private static final int MAX_VALUE = 16;

    private DigitsCsvReader() {}

    public static ImageSet read(FileSource files, String name, String csv) {
        List<String> lines = new ArrayList<>();
        try (BufferedReader reader = new BufferedReader(new InputStreamReader(IdxReader.open(files, csv).data(), StandardCharsets.US_ASCII))) {
            for (String line = reader.readLine(); line != null; line = reader.readLine()) {
                if (!line.isBlank()) {
                    lines.add(line);
                }
            }
        } catch (IOException e) {
            throw IdxReader.unreadable(csv, e);
        }
        byte[] pixels = new byte[ImageSet.byteCount(name, lines.size(), PIXELS)];
        int[] labels = new int[lines.size()];
        for (int row = 0; row < lines.size(); row++) {
            String[] cells = lines.get(row).split(",");
            if (cells.length != PIXELS + 1) {
                throw IdxReader.corrupt(csv, "line " + (row + 1) + " has " + cells.length + " values, expected "
                        + (PIXELS + 1) + " (64 pixels then the label)");
            }
            for (int p = 0; p < PIXELS; p++) {
                int value = parse(csv, row, cells[p]);
                if (value < 0 || value > MAX_VALUE) {
                    throw IdxReader.corrupt(csv, "line " + (row + 1) + " pixel " + p + " is " + value + ", expected 0..16");
                }
                pixels[row * PIXELS + p] = (byte) Math.round(value * 255f / MAX_VALUE);
            }
            labels[row] = parse(csv, row, cells[PIXELS]);
        }
        return new ImageSet(name, SIDE, SIDE, 10, pixels, labels);
    }

    private static int parse(String csv, int row, String cell) {
        try {
            return (int) Double.parseDouble(cell.trim());
        } catch (NumberFormatException e) {
            throw IdxReader.corrupt(csv, "line " + (row + 1) + " holds '" + cell + "', expected a number");
        }
    }
}
