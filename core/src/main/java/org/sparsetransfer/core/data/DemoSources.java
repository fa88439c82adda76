package org.sparsetransfer.core.data;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.sparsetransfer.core.InvalidInputException;

/**
 * The demo's real data files, read on first use: Fashion-MNIST and MNIST as IDX (gzipped or
 * not) in a directory each, and scikit-learn's 8x8 digits CSV.
 */
public final class DemoSources {
    private final Path fashionDir;
    private final Path mnistDir;
    private final Path digitsCsv;
    private ImageSet fashionTrain;
    private ImageSet fashionTest;
    private ImageSet mnistTrain;
    private ImageSet mnistTest;
    private ImageSet digits;

    public DemoSources(Path fashionDir, Path mnistDir, Path digitsCsv) {
        this.fashionDir = fashionDir;
        this.mnistDir = mnistDir;
        this.digitsCsv = digitsCsv;
    }

    /** The IDX files a directory must hold, without the optional ".gz". */
    public static final List<String> IDX_FILES = List.of(
            "train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte");

    public synchronized ImageSet fashionTrain() {
        if (fashionTrain == null) {
            fashionTrain = idx("fashion_mnist/train", fashionDir, "train");
        }
        return fashionTrain;
    }

    public synchronized ImageSet fashionTest() {
        if (fashionTest == null) {
            fashionTest = idx("fashion_mnist/test", fashionDir, "t10k");
        }
        return fashionTest;
    }

    public synchronized ImageSet mnistTrain() {
        if (mnistTrain == null) {
            mnistTrain = idx("mnist/train", mnistDir, "train");
        }
        return mnistTrain;
    }

    public synchronized ImageSet mnistTest() {
        if (mnistTest == null) {
            mnistTest = idx("mnist/test", mnistDir, "t10k");
        }
        return mnistTest;
    }

    public synchronized ImageSet digits() {
        if (digits == null) {
            digits = DigitsCsvReader.read("digits", digitsCsv);
        }
        return digits;
    }

    private static ImageSet idx(String name, Path dir, String prefix) {
        return IdxReader.read(name, resolve(dir, prefix + "-images-idx3-ubyte"), resolve(dir, prefix + "-labels-idx1-ubyte"), 10);
    }

    /** {@code dir/name}, or {@code dir/name.gz} if only that exists. */
    public static Path resolve(Path dir, String name) {
        Path plain = dir.resolve(name);
        Path gz = dir.resolve(name + ".gz");
        if (Files.exists(plain)) {
            return plain;
        }
        if (Files.exists(gz)) {
            return gz;
        }
        throw new InvalidInputException("Dataset file not found: " + plain + " (or " + gz.getFileName()
                + "); run the data setup or point the config's data paths at a directory holding it");
    }
}
