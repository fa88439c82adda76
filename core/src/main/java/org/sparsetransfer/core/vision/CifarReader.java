package org.sparsetransfer.core.vision;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import org.sparsetransfer.core.InvalidInputException;
import org.sparsetransfer.core.IoErrors;
import org.sparsetransfer.core.io.FileSource;

/**
 * The CIFAR binary formats (cifar-10-binary: {@code data_batch_1..5.bin}, {@code test_batch.bin};
 * cifar-100-binary: {@code train.bin}, {@code test.bin}): fixed-size records of the label byte(s)
 * then 3072 bytes of a 32x32 image, red plane, green plane, blue plane, rows top to bottom.
 */
public final class CifarReader {
    /** Which CIFAR: its label bytes per record, the label used, and its class count. */
    public enum Variant {
        CIFAR10(1, 0, 10), CIFAR100(2, 1, 100); // CIFAR-100: coarse label, then the fine label (the 100 classes)

        final int labelBytes;
        final int labelIndex;
        public final int classes;

        Variant(int labelBytes, int labelIndex, int classes) {
            this.labelBytes = labelBytes;
            this.labelIndex = labelIndex;
            this.classes = classes;
        }

        /** The training batch files of this CIFAR's binary version in {@code dir}, in order. */
        public List<String> trainBatches(String dir) {
            return this == CIFAR10 ? List.of(1, 2, 3, 4, 5).stream().map(i -> FileSource.resolve(dir, "data_batch_" + i + ".bin")).toList()
                    : List.of(FileSource.resolve(dir, "train.bin"));
        }

        /** The test batch file of this CIFAR's binary version in {@code dir}. */
        public String testBatch(String dir) {
            return FileSource.resolve(dir, this == CIFAR10 ? "test_batch.bin" : "test.bin");
        }

        /** The variant with {@code classes} classes (10 or 100). */
        public static Variant withClasses(int classes) {
            return classes == 10 ? CIFAR10 : CIFAR100;
        }
    }

    public record Labeled(RgbImage image, int label) {}

    private static final int SIDE = 32;
    private static final int IMAGE_BYTES = 3 * SIDE * SIDE;
    /** CIFAR's largest batch file (CIFAR-100's train.bin) is 154 MB; anything far larger is not a batch. */
    private static final long MAX_BATCH_BYTES = 1L << 30;

    private CifarReader() {}

    /** Bytes of one record of {@code variant}: its label bytes and a 3x32x32 image. */
    public static int recordBytes(Variant variant) {
        return variant.labelBytes + IMAGE_BYTES;
    }

    /** The records a batch of {@code size} bytes holds; a size that is not a whole number of records is one clear error. */
    public static long records(String file, long size, Variant variant) {
        long record = recordBytes(variant);
        if (size == 0 || size % record != 0 || size > MAX_BATCH_BYTES) {
            throw new InvalidInputException("CIFAR batch " + file + " has " + size + " bytes, not a multiple of the "
                    + record + "-byte records of " + variant + (size > MAX_BATCH_BYTES ? " up to " + MAX_BATCH_BYTES : "")
                    + " (is it the binary version, and the right CIFAR?)");
        }
        return size / record;
    }

    public static List<Labeled> read(FileSource files, String file, Variant variant) {
        int record = recordBytes(variant);
        List<Labeled> out = new ArrayList<>();
        try {
            // The size is checked before anything is read: a batch is a whole number of records, and a few hundred MB at most.
            long count = records(file, files.length(file), variant);
            try (InputStream in = new BufferedInputStream(files.open(file), 1 << 16)) {
                byte[] bytes = new byte[record]; // one record at a time: the batch is never held whole
                for (long r = 0; r < count; r++) {
                    if (in.readNBytes(bytes, 0, record) < record) {
                        throw new InvalidInputException("CIFAR batch " + file + " ended at record " + r + " of " + count
                                + " (did it change while being read?)");
                    }
                    int label = bytes[variant.labelIndex] & 0xFF;
                    if (label >= variant.classes) {
                        throw new InvalidInputException("CIFAR batch " + file + ": label " + label + " at record " + r
                                + " is outside 0.." + (variant.classes - 1) + " of " + variant);
                    }
                    byte[] planes = new byte[IMAGE_BYTES];
                    System.arraycopy(bytes, variant.labelBytes, planes, 0, IMAGE_BYTES);
                    out.add(new Labeled(new RgbImage(SIDE, SIDE, planes), label));
                }
            }
        } catch (IOException e) {
            throw new InvalidInputException("Cannot read CIFAR batch " + file + ": " + IoErrors.describe(e), e);
        }
        return out;
    }
}
