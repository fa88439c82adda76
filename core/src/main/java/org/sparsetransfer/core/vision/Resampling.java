package org.sparsetransfer.core.vision;

/**
 * Pillow's {@code Image.resize} for 8-bit RGB, as torchvision's transforms call it on PIL images:
 * a separable filter whose support widens by the shrink factor (so shrinking antialiases),
 * horizontal pass then vertical, each in Pillow's fixed point with its rounding and its 8-bit
 * intermediate image, so that the values are Pillow's. Written here because no Java imaging
 * library resamples as Pillow does, and the inputs the models train and are scored on should be
 * those of the PyTorch recipes they come from (checked against Pillow by ResamplingTest).
 */
public final class Resampling {
    /** Pillow's resampling filters. */
    public enum Filter {
        /** Triangle filter, support 1 (Pillow's BILINEAR, torchvision's default). */
        BILINEAR(1.0) {
            @Override
            double weight(double x) {
                x = Math.abs(x);
                return x < 1.0 ? 1.0 - x : 0.0;
            }
        },
        /** Keys' cubic with a = -0.5, support 2 (Pillow's BICUBIC; RigL's and timm's evaluation transforms use it). */
        BICUBIC(2.0) {
            @Override
            double weight(double x) {
                final double a = -0.5;
                x = Math.abs(x);
                if (x < 1.0) {
                    return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
                }
                if (x < 2.0) {
                    return (((x - 5) * x + 8) * x - 4) * a;
                }
                return 0.0;
            }
        };

        final double support;

        Filter(double support) {
            this.support = support;
        }

        abstract double weight(double x);

        /** The filter a config names ("bilinear" or "bicubic"). */
        public static Filter parse(String name, String where) {
            for (Filter f : values()) {
                if (f.name().toLowerCase(java.util.Locale.ROOT).equals(name)) {
                    return f;
                }
            }
            throw new org.sparsetransfer.core.InvalidInputException("Unknown interpolation '" + name + "' at " + where
                    + "; expected bilinear or bicubic");
        }
    }

    private static final int PRECISION_BITS = 32 - 8 - 2;

    private Resampling() {}

    /**
     * The box (left, top, right, bottom; fractional allowed, in source pixels) of {@code image}
     * resized to {@code outW} x {@code outH}, as {@code image.resize((outW, outH), filter, box)}.
     */
    public static RgbImage resize(RgbImage image, float left, float top, float right, float bottom, int outW, int outH,
            Filter filter) {
        boolean horizontal = outW != image.width() || left != 0 || right != image.width();
        boolean vertical = outH != image.height() || top != 0 || bottom != image.height();
        Coefficients columns = Coefficients.of(image.width(), left, right, outW, filter);
        Coefficients rows = Coefficients.of(image.height(), top, bottom, outH, filter);
        int width = image.width();
        int height = image.height();
        int firstRow = 0;
        int[][] planes;
        if (horizontal) {
            // Only the rows the vertical pass reads, as Pillow does, straight from the image's bytes.
            firstRow = rows.start[0];
            int lastRow = rows.start[outH - 1] + rows.length[outH - 1];
            int bandHeight = lastRow - firstRow;
            planes = new int[3][];
            byte[] source = image.planes();
            for (int c = 0; c < 3; c++) {
                int[] band = new int[outW * bandHeight];
                for (int y = 0; y < bandHeight; y++) {
                    int rowOffset = (c * height + firstRow + y) * width;
                    for (int x = 0; x < outW; x++) {
                        band[y * outW + x] = columns.applyToBytes(source, rowOffset, x);
                    }
                }
                planes[c] = band;
            }
            width = outW;
            height = bandHeight;
        } else {
            planes = planes(image);
        }
        if (vertical) {
            for (int c = 0; c < 3; c++) {
                planes[c] = rows.applyToRows(planes[c], width, firstRow, outH);
            }
            height = outH;
        } else if (horizontal) {
            height = outH; // the band is the whole output
        }
        byte[] bytes = new byte[3 * width * height];
        for (int c = 0; c < 3; c++) {
            for (int i = 0; i < width * height; i++) {
                bytes[c * width * height + i] = (byte) planes[c][i];
            }
        }
        return new RgbImage(width, height, bytes);
    }

    private static int[][] planes(RgbImage image) {
        int n = image.width() * image.height();
        int[][] planes = new int[3][n];
        byte[] bytes = image.planes();
        for (int c = 0; c < 3; c++) {
            for (int i = 0; i < n; i++) {
                planes[c][i] = bytes[c * n + i] & 0xFF;
            }
        }
        return planes;
    }

    /** One axis's taps: for output pixel i, source pixels start[i] .. start[i] + length[i] with fixed-point weights. */
    private record Coefficients(int[] start, int[] length, int[][] weights) {
        static Coefficients of(int inSize, float in0, float in1, int outSize, Filter filter) {
            double scale = (double) (in1 - in0) / outSize;
            double filterScale = Math.max(scale, 1.0);
            double support = filter.support * filterScale;
            double ss = 1.0 / filterScale;
            int[] start = new int[outSize];
            int[] length = new int[outSize];
            int[][] weights = new int[outSize][];
            for (int i = 0; i < outSize; i++) {
                double center = in0 + (i + 0.5) * scale;
                int min = Math.max((int) (center - support + 0.5), 0);
                int max = Math.min((int) (center + support + 0.5), inSize) - min;
                double[] k = new double[Math.max(max, 0)];
                double sum = 0;
                for (int x = 0; x < k.length; x++) {
                    k[x] = filter.weight((x + min - center + 0.5) * ss);
                    sum += k[x];
                }
                int[] fixed = new int[k.length];
                for (int x = 0; x < k.length; x++) {
                    double w = sum != 0.0 ? k[x] / sum : k[x];
                    fixed[x] = (int) (w < 0 ? -0.5 + w * (1 << PRECISION_BITS) : 0.5 + w * (1 << PRECISION_BITS));
                }
                start[i] = min;
                length[i] = k.length;
                weights[i] = fixed;
            }
            return new Coefficients(start, length, weights);
        }

        /** Output pixel {@code i} of a row of 8-bit values starting at {@code offset}, rounded and clipped to 0..255. */
        int applyToBytes(byte[] values, int offset, int i) {
            int sum = 1 << (PRECISION_BITS - 1);
            int[] k = weights[i];
            int base = offset + start[i];
            for (int x = 0; x < k.length; x++) {
                sum += (values[base + x] & 0xFF) * k[x];
            }
            return Math.min(255, Math.max(0, sum >> PRECISION_BITS));
        }

        /**
         * The vertical pass: output row {@code i} of rows of {@code width} values (the first of
         * them source row {@code firstRow}), rounded and clipped to 0..255. Whole rows are
         * accumulated tap by tap, so memory is read in order (the same sums as tap by tap per pixel).
         */
        int[] applyToRows(int[] values, int width, int firstRow, int outRows) {
            int[] out = new int[width * outRows];
            int[] sum = new int[width];
            for (int i = 0; i < outRows; i++) {
                java.util.Arrays.fill(sum, 1 << (PRECISION_BITS - 1));
                int[] k = weights[i];
                for (int t = 0; t < k.length; t++) {
                    int weight = k[t];
                    int row = (start[i] + t - firstRow) * width;
                    for (int x = 0; x < width; x++) {
                        sum[x] += values[row + x] * weight;
                    }
                }
                int at = i * width;
                for (int x = 0; x < width; x++) {
                    out[at + x] = Math.min(255, Math.max(0, sum[x] >> PRECISION_BITS));
                }
            }
            return out;
        }
    }
}
