package org.sparsetransfer.core.vision;

import java.util.SplittableRandom;

/**
 * The paper's input pipeline (torchvision's ImageNet recipe), as float tensors in (C, H, W) order:
 * training takes a RandomResizedCrop (scale 0.08..1, aspect 3/4..4/3) resized to {@code size} and
 * a horizontal flip with probability 1/2; evaluation resizes the shorter side to {@code resize}
 * and takes the centre {@code crop}. Both normalize per channel. Randomness comes only from the
 * generator passed in ({@link #random}), so a (seed, epoch, example) triple always gives the same crop.
 * Resizing is Pillow's ({@link Resampling}: antialiased when it shrinks), as torchvision applies it
 * to PIL images, with the filter the config names; sizes and centre offsets are computed as
 * torchvision computes them.
 */
public final class Augmentation {
    /** Per-channel mean and std of 0..1 pixel values. */
    public record Normalization(float[] mean, float[] std) {
        public static final Normalization IMAGENET = new Normalization(new float[] {0.485f, 0.456f, 0.406f},
                new float[] {0.229f, 0.224f, 0.225f});
    }

    private static final double MIN_SCALE = 0.08;
    private static final double MIN_RATIO = 3.0 / 4;
    private static final double MAX_RATIO = 4.0 / 3;

    private Augmentation() {}

    /** The generator for example {@code index} in epoch {@code epoch} of a run seeded {@code seed}. */
    public static SplittableRandom random(long seed, long epoch, long index) {
        // A distinct stream per triple, independent of the order examples are visited in.
        long mixed = seed * 0x9E3779B97F4A7C15L + epoch * 0xC2B2AE3D27D4EB4FL + index * 0x165667B19E3779F9L;
        return new SplittableRandom(mixed);
    }

    /** RandomResizedCrop({@code size}) + RandomHorizontalFlip, normalized. */
    public static float[] train(RgbImage image, int size, SplittableRandom random, Resampling.Filter filter, Normalization norm) {
        int w = image.width();
        int h = image.height();
        double area = (double) w * h;
        int cropW = w;
        int cropH = h;
        int left = 0;
        int top = 0;
        boolean found = false;
        for (int attempt = 0; attempt < 10 && !found; attempt++) {
            double target = area * random.nextDouble(MIN_SCALE, 1.0);
            double ratio = Math.exp(random.nextDouble(Math.log(MIN_RATIO), Math.log(MAX_RATIO)));
            int cw = (int) Math.round(Math.sqrt(target * ratio));
            int ch = (int) Math.round(Math.sqrt(target / ratio));
            if (cw > 0 && ch > 0 && cw <= w && ch <= h) {
                cropW = cw;
                cropH = ch;
                top = random.nextInt(h - ch + 1);
                left = random.nextInt(w - cw + 1);
                found = true;
            }
        }
        if (!found) { // torchvision's fallback: the largest centred crop within the ratio bounds
            double ratio = (double) w / h;
            if (ratio < MIN_RATIO) {
                cropH = (int) Math.round(w / MIN_RATIO);
            } else if (ratio > MAX_RATIO) {
                cropW = (int) Math.round(h * MAX_RATIO);
            }
            top = (h - cropH) / 2;
            left = (w - cropW) / 2;
        }
        boolean flip = random.nextBoolean();
        return normalized(Resampling.resize(image, left, top, left + cropW, top + cropH, size, size, filter), 0, 0, size, flip, norm);
    }

    /** Resize(shorter side {@code resize}) + CenterCrop({@code crop}), normalized. */
    public static float[] test(RgbImage image, int resize, int crop, Resampling.Filter filter, Normalization norm) {
        RgbImage resized = resizeShorterSide(image, resize, filter);
        if (crop > resized.width() || crop > resized.height()) {
            throw new IllegalArgumentException("centre crop " + crop + " exceeds the resized image " + resized.width() + "x"
                    + resized.height());
        }
        return normalized(resized, centreOffset(resized.width(), crop), centreOffset(resized.height(), crop), crop, false, norm);
    }

    /**
     * What ingest stores: Resize({@code side}) + CenterCrop({@code side}), as 8-bit RGB.
     * Evaluation's Resize({@code side}) + CenterCrop of it equals torchvision's on the original;
     * training crops are taken from this square rather than the whole picture.
     */
    public static RgbImage store(RgbImage image, int side, Resampling.Filter filter) {
        if (image.width() == side && image.height() == side) {
            return image;
        }
        RgbImage resized = resizeShorterSide(image, side, filter);
        int left = centreOffset(resized.width(), side);
        int top = centreOffset(resized.height(), side);
        byte[] planes = new byte[3 * side * side];
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < side; y++) {
                System.arraycopy(resized.planes(), (c * resized.height() + top + y) * resized.width() + left, planes,
                        (c * side + y) * side, side);
            }
        }
        return new RgbImage(side, side, planes);
    }

    /** torchvision's Resize(int): the shorter side to {@code side}, the longer to int(side * long / short). */
    private static RgbImage resizeShorterSide(RgbImage image, int side, Resampling.Filter filter) {
        int w = image.width();
        int h = image.height();
        if (Math.min(w, h) == side) {
            return image;
        }
        int outW = w <= h ? side : (int) ((double) side * w / h);
        int outH = h <= w ? side : (int) ((double) side * h / w);
        return Resampling.resize(image, 0, 0, w, h, outW, outH, filter);
    }

    /** torchvision's CenterCrop offset: int(round((size - crop) / 2)), Python's round (half to even). */
    private static int centreOffset(int size, int crop) {
        return (int) Math.rint((size - crop) / 2.0);
    }

    /** The {@code size} x {@code size} window at (left, top) of {@code image} as 0..1 values, optionally mirrored, normalized. */
    private static float[] normalized(RgbImage image, int left, int top, int size, boolean flip, Normalization norm) {
        float[] out = new float[3 * size * size];
        int w = image.width();
        int h = image.height();
        byte[] planes = image.planes();
        float[] levels = new float[256];
        for (int c = 0; c < 3; c++) {
            // The 256 values a channel's byte can take, computed as per pixel: the same floats, fewer divisions.
            for (int v = 0; v < 256; v++) {
                levels[v] = (v / 255f - norm.mean()[c]) / norm.std()[c];
            }
            for (int y = 0; y < size; y++) {
                int from = (c * h + top + y) * w + left;
                int to = (c * size + y) * size;
                for (int x = 0; x < size; x++) {
                    out[to + (flip ? size - 1 - x : x)] = levels[planes[from + x] & 0xFF];
                }
            }
        }
        return out;
    }
}
