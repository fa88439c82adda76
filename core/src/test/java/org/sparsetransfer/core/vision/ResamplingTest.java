package org.sparsetransfer.core.vision;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.InputStream;
import org.junit.jupiter.api.Test;

/**
 * Resizing matches Pillow's (what torchvision's transforms use on PIL images): shrinking with
 * antialiasing, enlarging, fractional boxes, bilinear and bicubic, against values Pillow computed
 * (make_pil_reference.py, Debian python3-pil, next to the reference file).
 */
class ResamplingTest {
    private static RgbImage source(int width, int height) {
        // The formula of make_pil_reference.py.
        byte[] planes = new byte[3 * width * height];
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < height; y++) {
                for (int x = 0; x < width; x++) {
                    planes[(c * height + y) * width + x] = (byte) ((x * 7 + y * 13 + c * 50 + (x * y) % 17 * 5) % 256);
                }
            }
        }
        return new RgbImage(width, height, planes);
    }

    @Test
    void resizingMatchesPillowValueForValue() throws Exception {
        JsonNode reference;
        try (InputStream in = ResamplingTest.class.getResourceAsStream("/resize/pil_reference.json")) {
            reference = new ObjectMapper().readTree(in);
        }
        RgbImage image = source(reference.get("width").asInt(), reference.get("height").asInt());
        int cases = 0;
        for (JsonNode c : reference.get("cases")) {
            JsonNode box = c.get("box");
            Resampling.Filter filter = Resampling.Filter.parse(c.get("filter").asText(), "test");
            int w = c.get("width").asInt();
            int h = c.get("height").asInt();
            RgbImage out = Resampling.resize(image, (float) box.get(0).asDouble(), (float) box.get(1).asDouble(),
                    (float) box.get(2).asDouble(), (float) box.get(3).asDouble(), w, h, filter);
            assertEquals(w, out.width());
            assertEquals(h, out.height());
            JsonNode expected = c.get("values");
            int maxDiff = 0;
            int differing = 0;
            for (int i = 0; i < expected.size(); i++) {
                int diff = Math.abs(expected.get(i).asInt() - (out.planes()[i] & 0xFF));
                maxDiff = Math.max(maxDiff, diff);
                differing += diff == 0 ? 0 : 1;
            }
            String what = filter + " box " + box + " -> " + w + "x" + h;
            System.out.printf("resize %s: %d of %d values differ from Pillow %s, by at most %d%n", what, differing, expected.size(),
                    reference.get("pillow").asText(), maxDiff);
            assertEquals(0, maxDiff, what + " equals Pillow's");
            cases++;
        }
        assertEquals(9, cases);
    }

    @Test
    void theSameSizeAndBoxIsACopy() {
        RgbImage image = source(12, 9);
        assertTrue(java.util.Arrays.equals(image.planes(), Resampling.resize(image, 0, 0, 12, 9, 12, 9, Resampling.Filter.BICUBIC).planes()));
    }
}
