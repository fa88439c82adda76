package org.sparsetransfer.core;

import java.util.SplittableRandom;
import org.sparsetransfer.core.data.ImageSet;
import org.sparsetransfer.core.model.Tensor;

/** Generated data for tests: learnable, seeded, small. */
public final class Synthetic {
    private Synthetic() {}

    /**
     * 28x28 images whose class is where a bright 8x8 square sits (class c at grid cell c of a
     * 3x3 grid), on a noisy background; {@code shift} moves every square, for a related task.
     */
    public static ImageSet squares(String name, int n, int classes, long seed, int shift) {
        SplittableRandom random = new SplittableRandom(seed);
        byte[] pixels = new byte[n * 28 * 28];
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            int c = random.nextInt(classes);
            labels[i] = c;
            int top = 1 + (c / 3) * 9 + shift;
            int left = 1 + (c % 3) * 9 + shift;
            for (int p = 0; p < 28 * 28; p++) {
                pixels[i * 784 + p] = (byte) random.nextInt(60);
            }
            for (int y = top; y < Math.min(28, top + 8); y++) {
                for (int x = left; x < Math.min(28, left + 8); x++) {
                    pixels[i * 784 + y * 28 + x] = (byte) (180 + random.nextInt(70));
                }
            }
        }
        return new ImageSet(name, 28, 28, classes, pixels, labels);
    }

    public static Tensor gaussian(long seed, long... shape) {
        SplittableRandom random = new SplittableRandom(seed);
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        float[] v = new float[(int) n];
        for (int i = 0; i < v.length; i++) {
            // Box-Muller: SplittableRandom has no nextGaussian on Java 17.
            double u1 = 1.0 - random.nextDouble();
            double u2 = random.nextDouble();
            v[i] = (float) (Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2));
        }
        return new Tensor(shape, v);
    }
}
