package org.sparsetransfer.core.data;

import java.io.IOException;
import java.util.List;
import org.sparsetransfer.core.InvalidInputException;
import org.sparsetransfer.core.IoErrors;
import org.sparsetransfer.core.io.FileSource;

/**
 * The demo's real data files, read on first use: Fashion-MNIST and MNIST as IDX (gzipped or
 * not) in a directory each, and scikit-learn's 8x8 digits CSV.
 */
public final class DemoSources {
    private final FileSource files;
    private final String fashionDir;
    private final String mnistDir;
    private final String digitsCsv;
    private ImageSet fashionTrain;
    private ImageSet fashionTest;
    private ImageSet mnistTrain;
    private ImageSet mnistTest;
    private ImageSet digits;

    public DemoSources(FileSource files, String fashionDir, String mnistDir, String digitsCsv) {
        this.files = files;
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
            digits = DigitsCsvReader.read(files, "digits", digitsCsv);
        }
        return digits;
    }

    private ImageSet idx(String name, String dir, String prefix) {
        return IdxReader.read(files, name, resolve(files, dir, prefix + "-images-idx3-ubyte"), resolve(files, dir, prefix + "-labels-idx1-ubyte"), 10);
    }

    /** {@code dir/name}, or {@code dir/name.gz} if only that exists. */
    public static String resolve(FileSource files, String dir, String name) {
        String plain = FileSource.resolve(dir, name);
        String gz = plain + ".gz";
        try {
            if (files.isFile(plain)) {
                return plain;
            }
            if (files.isFile(gz)) {
                return gz;
            }
        } catch (IOException e) {
            throw new InvalidInputException("Cannot check dataset file " + plain + ": " + IoErrors.describe(e), e);
        }
        throw new InvalidInputException("Dataset file not found: " + plain + " (or " + FileSource.name(gz)
                + "); run the data setup or point the config's data paths at a directory holding it");
    }
}
