package org.sparsetransfer.core.vision;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.sparsetransfer.core.InvalidInputException;

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
        public List<Path> trainBatches(Path dir) {
            return this == CIFAR10 ? List.of(1, 2, 3, 4, 5).stream().map(i -> dir.resolve("data_batch_" + i + ".bin")).toList()
                    : List.of(dir.resolve("train.bin"));
        }

        /** The test batch file of this CIFAR's binary version in {@code dir}. */
        public Path testBatch(Path dir) {
            return dir.resolve(this == CIFAR10 ? "test_batch.bin" : "test.bin");
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

    public static List<Labeled> read(Path file, Variant variant) {
        byte[] bytes;
        int record = recordBytes(variant);
        try {
            // The size is checked before anything is read: a batch is a whole number of records, and a few hundred MB at most.
            long size = Files.size(file);
            if (size == 0 || size % record != 0 || size > MAX_BATCH_BYTES) {
                throw new InvalidInputException("CIFAR batch " + file + " has " + size + " bytes, not a multiple of the "
                        + record + "-byte records of " + variant + (size > MAX_BATCH_BYTES ? " up to " + MAX_BATCH_BYTES : "")
                        + " (is it the binary version, and the right CIFAR?)");
            }
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new InvalidInputException("Cannot read CIFAR batch " + file + ": " + e.getMessage(), e);
        }
        List<Labeled> out = new ArrayList<>(bytes.length / record);
        for (int offset = 0; offset < bytes.length; offset += record) {
            int label = bytes[offset + variant.labelIndex] & 0xFF;
            if (label >= variant.classes) {
                throw new InvalidInputException("CIFAR batch " + file + ": label " + label + " at record " + offset / record
                        + " is outside 0.." + (variant.classes - 1) + " of " + variant);
            }
            byte[] planes = new byte[IMAGE_BYTES];
            System.arraycopy(bytes, offset + variant.labelBytes, planes, 0, IMAGE_BYTES);
            out.add(new Labeled(new RgbImage(SIDE, SIDE, planes), label));
        }
        return out;
    }
}
