package org.sparsetransfer.core.data;

/** Geometric operations on {@link ImageSet}s. */
public final class ImageOps {
    private ImageOps() {}

    /**
     * Bilinear resize of every image to {@code inner x inner}, centred on a zero canvas of
     * {@code inner + 2*pad} per side (MNIST puts its digits in a 20x20 box inside 28x28).
     */
    public static ImageSet resizeAndPad(ImageSet source, String name, int inner, int pad) {
        int side = inner + 2 * pad;
        int srcH = source.height();
        int srcW = source.width();
        int n = source.size();
        byte[] out = new byte[ImageSet.byteCount(name, n, side * side)];
        float scaleY = (float) srcH / inner;
        float scaleX = (float) srcW / inner;
        byte[] in = source.pixels();
        for (int i = 0; i < n; i++) {
            int src = i * srcH * srcW;
            int dst = i * side * side;
            for (int y = 0; y < inner; y++) {
                // Half-pixel centres, as in common image libraries.
                float sy = Math.max(0f, (y + 0.5f) * scaleY - 0.5f);
                int y0 = Math.min((int) sy, srcH - 1);
                int y1 = Math.min(y0 + 1, srcH - 1);
                float fy = sy - y0;
                for (int x = 0; x < inner; x++) {
                    float sx = Math.max(0f, (x + 0.5f) * scaleX - 0.5f);
                    int x0 = Math.min((int) sx, srcW - 1);
                    int x1 = Math.min(x0 + 1, srcW - 1);
                    float fx = sx - x0;
                    float top = (1 - fx) * (in[src + y0 * srcW + x0] & 0xFF) + fx * (in[src + y0 * srcW + x1] & 0xFF);
                    float bottom = (1 - fx) * (in[src + y1 * srcW + x0] & 0xFF) + fx * (in[src + y1 * srcW + x1] & 0xFF);
                    out[dst + (y + pad) * side + x + pad] = (byte) Math.round((1 - fy) * top + fy * bottom);
                }
            }
        }
        return new ImageSet(name, side, side, source.numClasses(), out, source.labels());
    }
}
