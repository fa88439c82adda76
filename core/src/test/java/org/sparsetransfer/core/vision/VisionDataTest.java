package org.sparsetransfer.core.vision;

import org.sparsetransfer.core.io.FileSource;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sparsetransfer.core.InvalidInputException;

/** Readers and augmentation on images generated in the real formats. */
class VisionDataTest {
    private static final Augmentation.Normalization NORM = Augmentation.Normalization.IMAGENET;

    @TempDir
    Path dir;

    /** A w x h image: red rises left to right, green top to bottom, blue constant 77. */
    private static RgbImage gradient(int w, int h) {
        byte[] planes = new byte[3 * w * h];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                planes[y * w + x] = (byte) Math.round(255.0 * x / (w - 1));
                planes[w * h + y * w + x] = (byte) Math.round(255.0 * y / (h - 1));
                planes[2 * w * h + y * w + x] = 77;
            }
        }
        return new RgbImage(w, h, planes);
    }

    private static byte[] encode(RgbImage image, String format) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertTrue(ImageIO.write(image.toBufferedImage(), format, out));
        return out.toByteArray();
    }

    @Test
    void imageFolderListsClassesInOrderAndDecodesPngExactlyAndJpegClosely() throws Exception {
        RgbImage image = gradient(40, 30);
        for (String cls : List.of("dog", "cat")) {
            Files.createDirectories(dir.resolve(cls));
            Files.write(dir.resolve(cls).resolve("b.png"), encode(image, "png"));
            Files.write(dir.resolve(cls).resolve("a.JPG"), encode(image, "jpg"));
            Files.writeString(dir.resolve(cls).resolve("README.txt"), "not an image");
        }
        ImageFolder folder = ImageFolder.scan(FileSource.local(), dir.toString());
        assertEquals(List.of("cat", "dog"), folder.classes());
        assertEquals(List.of("cat/a.JPG", "cat/b.png", "dog/a.JPG", "dog/b.png"),
                folder.examples().stream().map(e -> dir.relativize(Path.of(e.file())).toString()).toList());
        assertEquals(List.of(0, 0, 1, 1), folder.examples().stream().map(ImageFolder.Example::label).toList());

        RgbImage png = RgbImage.decode(Files.readAllBytes(Path.of(folder.examples().get(1).file())), "b.png");
        assertArrayEquals(image.planes(), png.planes());
        RgbImage jpeg = RgbImage.decode(Files.readAllBytes(Path.of(folder.examples().get(0).file())), "a.JPG");
        assertEquals(40, jpeg.width());
        double error = 0;
        for (int i = 0; i < image.planes().length; i++) {
            error += Math.abs((image.planes()[i] & 0xFF) - (jpeg.planes()[i] & 0xFF));
        }
        assertTrue(error / image.planes().length < 6, "mean JPEG error " + error / image.planes().length);

        Files.createDirectories(dir.resolve("empty"));
        assertThrows(InvalidInputException.class, () -> ImageFolder.scan(FileSource.local(), dir.toString()), "a class without images");
        assertThrows(InvalidInputException.class, () -> ImageFolder.scan(FileSource.local(), dir.resolve("nowhere").toString()));
        assertThrows(InvalidInputException.class, () -> RgbImage.decode("text".getBytes(), "x.png"));
    }

    @Test
    void cifarBinaryRecordsArePlanarWithTheirLabel() throws Exception {
        byte[] ten = new byte[3 * 3073];
        byte[] hundred = new byte[2 * 3074];
        for (int r = 0; r < 3; r++) {
            ten[r * 3073] = (byte) (r + 7); // label
            ten[r * 3073 + 1] = (byte) (10 * r + 1); // red at (0, 0)
            ten[r * 3073 + 1 + 1024 + 33] = (byte) 200; // green at (1, 1)
            ten[r * 3073 + 1 + 2048 + 1023] = (byte) 255; // blue at (31, 31)
        }
        hundred[0] = 3; // coarse
        hundred[1] = 99; // fine
        hundred[3074 + 1] = 42;
        Path tenFile = Files.write(dir.resolve("data_batch_1.bin"), ten);
        Path hundredFile = Files.write(dir.resolve("train.bin"), hundred);

        List<CifarReader.Labeled> cifar10 = CifarReader.read(FileSource.local(), tenFile.toString(), CifarReader.Variant.CIFAR10);
        assertEquals(List.of(7, 8, 9), cifar10.stream().map(CifarReader.Labeled::label).toList());
        RgbImage second = cifar10.get(1).image();
        assertEquals(11, second.at(0, 0, 0));
        assertEquals(200, second.at(1, 1, 1));
        assertEquals(255, second.at(2, 31, 31));
        List<CifarReader.Labeled> cifar100 = CifarReader.read(FileSource.local(), hundredFile.toString(), CifarReader.Variant.CIFAR100);
        assertEquals(List.of(99, 42), cifar100.stream().map(CifarReader.Labeled::label).toList());

        assertTrue(assertThrows(InvalidInputException.class, () -> CifarReader.read(FileSource.local(), hundredFile.toString(), CifarReader.Variant.CIFAR10))
                .getMessage().contains("not a multiple of the 3073-byte records of CIFAR10"));
        ten[0] = 10;
        Path badLabel = Files.write(dir.resolve("bad.bin"), ten);
        assertTrue(assertThrows(InvalidInputException.class, () -> CifarReader.read(FileSource.local(), badLabel.toString(), CifarReader.Variant.CIFAR10))
                .getMessage().contains("label 10 at record 0"));
    }

    @Test
    void evaluationResizesTheShorterSideAndTakesTheCentre() {
        RgbImage image = gradient(400, 300); // resize 256 -> 341 x 256, centre 224 x 224
        float[] x = Augmentation.test(image, 256, 224, Resampling.Filter.BILINEAR, NORM);
        assertEquals(3 * 224 * 224, x.length);
        // Blue is constant: every blue value is (77/255 - mean) / std.
        float blue = (float) ((77 / 255.0 - NORM.mean()[2]) / NORM.std()[2]);
        for (int i = 2 * 224 * 224; i < x.length; i++) {
            assertEquals(blue, x[i], 1e-5);
        }
        // Red rises left to right and is symmetric about the centre: the crop is centred.
        float left = x[112 * 224];
        float right = x[112 * 224 + 223];
        float mid = (float) ((0.5 - NORM.mean()[0]) / NORM.std()[0]);
        assertEquals(mid, (left + right) / 2, 0.02);
        assertTrue(left < right);
        // 224 of 341 resized columns: the red span covers 224/341 of the full 0..1 range.
        double span = (right - left) * NORM.std()[0];
        assertEquals(223.0 / 340, span, 0.01);
    }

    @Test
    void trainingCropsAreSeededAndFlipHalfTheTime() {
        RgbImage image = gradient(64, 48);
        float[] a = Augmentation.train(image, 32, Augmentation.random(1, 0, 5), Resampling.Filter.BILINEAR, NORM);
        float[] b = Augmentation.train(image, 32, Augmentation.random(1, 0, 5), Resampling.Filter.BILINEAR, NORM);
        float[] c = Augmentation.train(image, 32, Augmentation.random(1, 1, 5), Resampling.Filter.BILINEAR, NORM);
        assertEquals(3 * 32 * 32, a.length);
        assertArrayEquals(a, b, "same seed, epoch and example: same crop");
        assertFalse(Arrays.equals(a, c), "another epoch: another crop");
        float low = (float) ((0 - NORM.mean()[0]) / NORM.std()[0]);
        float high = (float) ((1 - NORM.mean()[0]) / NORM.std()[0]);
        int flipped = 0;
        for (int i = 0; i < 200; i++) {
            float[] x = Augmentation.train(image, 32, Augmentation.random(7, 0, i), Resampling.Filter.BILINEAR, NORM);
            for (int j = 0; j < 1024; j++) {
                assertTrue(x[j] >= low - 1e-5 && x[j] <= high + 1e-5, "red within the normalized 0..1 range");
            }
            if (x[16 * 32] > x[16 * 32 + 31]) { // red falls left to right: mirrored
                flipped++;
            }
        }
        assertTrue(flipped > 70 && flipped < 130, "flipped " + flipped + " of 200");
    }
}
