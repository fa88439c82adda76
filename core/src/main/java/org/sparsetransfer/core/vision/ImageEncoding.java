package org.sparsetransfer.core.vision;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.Locale;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.MemoryCacheImageOutputStream;
import org.sparsetransfer.core.InvalidInputException;

/**
 * How ingest stores an image dataset's resized images ({@code data.images.storage}): JPEG (the
 * default: photographs at quality 90 are commonly 5 to 10 times smaller than raw, so ImageNet at
 * 256 px takes tens of GB rather than 250 GB), PNG (lossless) or raw channel-planar bytes.
 * Encoded images are decoded in the input pipeline, per batch, on its loader threads.
 */
public enum ImageEncoding {
    /** Channel-planar bytes as the network takes them; no decoding. */
    RAW,
    /** Lossless. */
    PNG,
    /** Baseline JPEG at {@link #JPEG_QUALITY}, 4:2:0 chroma, as the JDK's writer makes it. */
    JPEG;

    /**
     * JPEG quality of re-encoded images: 90, as FFCV stores ImageNet for its fast loaders. On
     * smooth, photograph-like content the mean absolute pixel error it adds is about one level in
     * 255; pixel noise, which JPEG drops, costs more (both tested). {@code storage: png} is exact.
     */
    public static final float JPEG_QUALITY = 0.90f;

    /** The key as configs and the datasets table's {@code encoding} column spell it. */
    public String key() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static ImageEncoding parse(String key, String where) {
        for (ImageEncoding e : values()) {
            if (e.key().equals(key)) {
                return e;
            }
        }
        throw new InvalidInputException("Unknown image storage '" + key + "' at " + where + "; expected one of "
                + Arrays.stream(values()).map(ImageEncoding::key).toList());
    }

    /** The bytes stored for {@code image}. */
    public byte[] encode(RgbImage image) {
        return switch (this) {
            case RAW -> image.planes();
            case PNG -> write(image, "png", null);
            case JPEG -> write(image, "jpeg", JPEG_QUALITY);
        };
    }

    /** The image stored as {@code bytes} (of {@code width} x {@code height} when raw). */
    public RgbImage decode(byte[] bytes, int width, int height, String source) {
        RgbImage image = switch (this) {
            case RAW -> new RgbImage(width, height, bytes);
            case PNG, JPEG -> RgbImage.decode(bytes, source);
        };
        if (image.width() != width || image.height() != height) {
            throw new IllegalStateException(source + " decodes to " + image.width() + "x" + image.height() + ", stored as "
                    + width + "x" + height);
        }
        return image;
    }

    private static byte[] write(RgbImage image, String format, Float quality) {
        ImageWriter writer = ImageIO.getImageWritersByFormatName(format).next();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (MemoryCacheImageOutputStream out = new MemoryCacheImageOutputStream(bytes)) {
            writer.setOutput(out);
            ImageWriteParam param = writer.getDefaultWriteParam();
            if (quality != null) {
                param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
                param.setCompressionQuality(quality);
            }
            writer.write(null, new IIOImage(image.toBufferedImage(), null, null), param);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot encode an image as " + format, e);
        } finally {
            writer.dispose();
        }
        return bytes.toByteArray();
    }
}
