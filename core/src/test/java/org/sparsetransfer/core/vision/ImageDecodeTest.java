package org.sparsetransfer.core.vision;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sparsetransfer.core.io.FileSource;

/**
 * Images beyond plain RGB: Adobe CMYK JPEGs, as ImageNet holds some, decode to their colours;
 * files that no reader decodes, or too small to crop, are skipped with a reason, never fatal.
 */
class ImageDecodeTest {
    @TempDir
    Path dir;

    @Test
    void aCmykJpegIsDecodedToItsColours() throws Exception {
        // Made by Pillow as Adobe applications write CMYK (make_cmyk_jpeg.py): no ink left, full cyan right.
        byte[] jpeg;
        try (var in = ImageDecodeTest.class.getResourceAsStream("/images/cmyk-adobe.jpg")) {
            jpeg = in.readAllBytes();
        }
        ImageReader jdk = null;
        for (Iterator<ImageReader> it = ImageIO.getImageReadersByFormatName("jpeg"); it.hasNext(); ) {
            ImageReader reader = it.next();
            if (reader.getClass().getName().startsWith("com.sun.imageio")) {
                jdk = reader;
            }
        }
        ImageReader jdkReader = java.util.Objects.requireNonNull(jdk, "the JDK's own JPEG reader");
        try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(jpeg))) {
            jdkReader.setInput(in);
            BufferedImage byJdk = jdkReader.read(0);
            System.out.printf("JDK reader: paper %08x, cyan %08x%n", byJdk.getRGB(2, 4), byJdk.getRGB(13, 4));
        }
        RgbImage image = RgbImage.decode(jpeg, "cmyk-adobe.jpg");
        assertEquals(16, image.width());
        assertEquals(8, image.height());
        int[] paper = {image.at(0, 4, 2), image.at(1, 4, 2), image.at(2, 4, 2)};
        int[] cyan = {image.at(0, 4, 13), image.at(1, 4, 13), image.at(2, 4, 13)};
        System.out.printf("CMYK JPEG decoded: no ink -> %s, cyan -> %s (Pillow's naive conversion: 255,255,255 and 0,255,255)%n",
                java.util.Arrays.toString(paper), java.util.Arrays.toString(cyan));
        // A colour-managed conversion (the plug-in's) prints cyan darker than Pillow's naive 255 - C; both are cyan.
        for (int c = 0; c < 3; c++) {
            assertTrue(paper[c] > 220, "paper is white: " + java.util.Arrays.toString(paper));
        }
        assertTrue(cyan[0] < 80 && cyan[1] > 120 && cyan[2] > 180, "cyan: " + java.util.Arrays.toString(cyan));
    }

    @Test
    void anUndecodableOrTooSmallImageIsSkippedWithItsReason() throws Exception {
        Path broken = Files.write(dir.resolve("broken.jpg"), new byte[] {(byte) 0xFF, (byte) 0xD8, 1, 2, 3, 4, 5});
        Path garbage = Files.write(dir.resolve("notes.jpg"), "not an image".getBytes());
        Path tiny = dir.resolve("tiny.png");
        ImageIO.write(new BufferedImage(4, 4, BufferedImage.TYPE_INT_RGB), "png", tiny.toFile());
        Path good = dir.resolve("good.jpg");
        ImageIO.write(new BufferedImage(20, 12, BufferedImage.TYPE_INT_RGB), "jpeg", good.toFile());
        for (Path file : List.of(broken, garbage, tiny)) {
            IngestPlan.Decoded decoded = IngestPlan.decode(FileSource.local(),
                    new IngestPlan.Unit(file.toString(), IngestPlan.Kind.IMAGE, "train", 0, 3), 8, Resampling.Filter.BILINEAR, new int[0]);
            assertEquals(0, decoded.stored().size(), file.toString());
            assertEquals(1, decoded.skipped().size(), file.toString());
            IngestPlan.Skipped skipped = decoded.skipped().get(0);
            assertEquals(file.toString(), skipped.file());
            assertEquals("train", skipped.split());
            assertTrue(skipped.reason().contains(file.toString()), skipped.reason());
        }
        IngestPlan.Decoded kept = IngestPlan.decode(FileSource.local(),
                new IngestPlan.Unit(good.toString(), IngestPlan.Kind.IMAGE, "train", 0, 3), 8, Resampling.Filter.BILINEAR, new int[0]);
        assertEquals(1, kept.stored().size());
        assertEquals(List.of(), kept.skipped());
    }
}
