package org.sparsetransfer.core.vision;

import java.util.SplittableRandom;

/**
 * The paper's input pipeline (torchvision's ImageNet recipe), as float tensors in (C, H, W) order:
 * training takes a RandomResizedCrop (scale 0.08..1, aspect 3/4..4/3) resized to {@code size} and
 * a horizontal flip with probability 1/2; evaluation resizes the shorter side to {@code resize}
 * and takes the centre {@code crop}. Both normalize per channel. Randomness comes only from the
 * generator passed in ({@link #random}), so a (seed, epoch, example) triple always gives the same crop.
 * Resizing is bilinear with half-pixel centres, without torchvision's antialiasing.
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
    public static float[] train(RgbImage image, int size, SplittableRandom random, Normalization norm) {
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
        return resample(image, left, top, cropW, cropH, size, size, flip, norm);
    }

    /** Resize(shorter side {@code resize}) + CenterCrop({@code crop}), normalized. */
    public static float[] test(RgbImage image, int resize, int crop, Normalization norm) {
        int w = image.width();
        int h = image.height();
        double scale = (double) resize / Math.min(w, h);
        int scaledW = (int) Math.round(w * scale);
        int scaledH = (int) Math.round(h * scale);
        if (crop > scaledW || crop > scaledH) {
            throw new IllegalArgumentException("centre crop " + crop + " exceeds the resized image " + scaledW + "x" + scaledH);
        }
        // The crop window of the resized image, mapped back onto the source.
        double x0 = ((scaledW - crop) / 2) / scale;
        double y0 = ((scaledH - crop) / 2) / scale;
        return resample(image, x0, y0, crop / scale, crop / scale, crop, crop, false, norm);
    }

    /**
     * What ingest stores: the shorter side resized to {@code side} and the centre square kept, as
     * 8-bit RGB. Evaluation's Resize({@code side}) + CenterCrop of it equals torchvision's on the
     * original; training crops are taken from this square rather than the whole picture.
     */
    public static RgbImage store(RgbImage image, int side) {
        int w = image.width();
        int h = image.height();
        if (w == side && h == side) {
            return image;
        }
        double scale = (double) side / Math.min(w, h);
        double x0 = ((Math.round(w * scale) - side) / 2) / scale;
        double y0 = ((Math.round(h * scale) - side) / 2) / scale;
        float[] values = resample(image, x0, y0, side / scale, side / scale, side, side, false);
        byte[] planes = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            planes[i] = (byte) Math.round(Math.min(255f, Math.max(0f, values[i] * 255f)));
        }
        return new RgbImage(side, side, planes);
    }

    private static float[] resample(RgbImage image, double x0, double y0, double w, double h, int outW, int outH, boolean flip,
            Normalization norm) {
        float[] out = resample(image, x0, y0, w, h, outW, outH, flip);
        int plane = outW * outH;
        for (int c = 0; c < 3; c++) {
            float mean = norm.mean()[c];
            float std = norm.std()[c];
            for (int i = c * plane; i < (c + 1) * plane; i++) {
                out[i] = (out[i] - mean) / std;
            }
        }
        return out;
    }

    /** Bilinear resampling of the source window (x0, y0, w, h) to outW x outH, optionally mirrored, as 0..1 values. */
    private static float[] resample(RgbImage image, double x0, double y0, double w, double h, int outW, int outH, boolean flip) {
        int srcW = image.width();
        int srcH = image.height();
        float[] out = new float[3 * outW * outH];
        double sy = h / outH;
        double sx = w / outW;
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < outH; y++) {
                double fy = Math.min(Math.max(y0 + (y + 0.5) * sy - 0.5, 0), srcH - 1);
                int ya = (int) fy;
                int yb = Math.min(ya + 1, srcH - 1);
                double dy = fy - ya;
                for (int x = 0; x < outW; x++) {
                    double fx = Math.min(Math.max(x0 + (x + 0.5) * sx - 0.5, 0), srcW - 1);
                    int xa = (int) fx;
                    int xb = Math.min(xa + 1, srcW - 1);
                    double dx = fx - xa;
                    double top = (1 - dx) * image.at(c, ya, xa) + dx * image.at(c, ya, xb);
                    double bottom = (1 - dx) * image.at(c, yb, xa) + dx * image.at(c, yb, xb);
                    int col = flip ? outW - 1 - x : x;
                    out[(c * outH + y) * outW + col] = (float) (((1 - dy) * top + dy * bottom) / 255.0);
                }
            }
        }
        return out;
    }
}
