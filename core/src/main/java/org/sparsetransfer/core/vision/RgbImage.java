package org.sparsetransfer.core.vision;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.Serializable;
import javax.imageio.ImageIO;
import org.sparsetransfer.core.InvalidInputException;

/**
 * An 8-bit RGB image in channel-planar order (all R, then all G, then all B), as CIFAR stores it
 * and as a network takes it (C, H, W).
 */
public record RgbImage(int width, int height, byte[] planes) implements Serializable {
    public RgbImage {
        if (width < 1 || height < 1 || planes.length != 3 * width * height) {
            throw new IllegalArgumentException("an RGB image of " + width + "x" + height + " needs " + 3L * width * height
                    + " bytes, got " + planes.length);
        }
    }

    /** The 0..255 value of channel {@code c} at ({@code x}, {@code y}). */
    public int at(int c, int y, int x) {
        return planes[(c * height + y) * width + x] & 0xFF;
    }

    /**
     * Decodes a JPEG or PNG (grayscale and palette images become RGB; alpha is dropped; Adobe CMYK
     * JPEGs, as ImageNet has some, become RGB too: the JDK's reader converts them since Java 9).
     */
    public static RgbImage decode(byte[] encoded, String source) {
        BufferedImage image;
        try {
            image = ImageIO.read(NoDiskCache.stream(encoded));
        } catch (IOException | RuntimeException e) {
            // Broken files make the readers throw more than IOException (e.g. IndexOutOfBounds, IllegalArgument).
            throw new InvalidInputException("Cannot decode image " + source + ": " + e, e);
        }
        if (image == null) {
            throw new InvalidInputException("Cannot decode image " + source + ": not a JPEG or PNG");
        }
        return of(image);
    }

    /** Decoding from memory needs no ImageIO disk cache (by default a temporary file per image stream). */
    private static final class NoDiskCache {
        static {
            ImageIO.setUseCache(false);
        }

        static ByteArrayInputStream stream(byte[] encoded) {
            return new ByteArrayInputStream(encoded);
        }
    }

    public static RgbImage of(BufferedImage image) {
        int w = image.getWidth();
        int h = image.getHeight();
        int[] argb = image.getRGB(0, 0, w, h, null, 0, w);
        byte[] planes = new byte[3 * w * h];
        for (int i = 0; i < argb.length; i++) {
            planes[i] = (byte) (argb[i] >> 16);
            planes[w * h + i] = (byte) (argb[i] >> 8);
            planes[2 * w * h + i] = (byte) argb[i];
        }
        return new RgbImage(w, h, planes);
    }

    public BufferedImage toBufferedImage() {
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        int n = width * height;
        int[] rgb = new int[n];
        for (int i = 0; i < n; i++) {
            rgb[i] = (planes[i] & 0xFF) << 16 | (planes[n + i] & 0xFF) << 8 | (planes[2 * n + i] & 0xFF);
        }
        image.setRGB(0, 0, width, height, rgb, 0, width);
        return image;
    }
}
