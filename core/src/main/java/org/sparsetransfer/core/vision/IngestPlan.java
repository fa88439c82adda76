package org.sparsetransfer.core.vision;

import java.io.IOException;
import java.io.Serializable;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.sparsetransfer.core.InvalidInputException;
import org.sparsetransfer.core.IoErrors;
import org.sparsetransfer.core.io.FileSource;
import org.sparsetransfer.core.config.ExperimentConfig;
import org.sparsetransfer.core.data.Sampling;

/**
 * What ingesting one image dataset reads: its units (an image file, or a CIFAR batch file of many
 * records), each with its split and the index of its first example, listed and checked on the
 * driver without decoding; {@link #decode} turns one unit into stored images on an executor.
 * Upstream validation images are a seeded {@code upstream_val} of the training images.
 */
public record IngestPlan(String dataset, int numClasses, List<Unit> units, Map<String, Integer> counts, int[] val)
        implements Serializable {

    /** What a unit holds. */
    public enum Kind {
        IMAGE(null), CIFAR10(CifarReader.Variant.CIFAR10), CIFAR100(CifarReader.Variant.CIFAR100);

        final CifarReader.Variant cifar;

        Kind(CifarReader.Variant cifar) {
            this.cifar = cifar;
        }
    }

    /**
     * One file to read, its location {@link FileSource#qualified qualified} so that any executor
     * finds it: {@code label} is the class of an image file (CIFAR records carry their own).
     */
    public record Unit(String file, Kind kind, String split, int label, int index) implements Serializable {}

    /** One stored example: its split, index, label, and the image as ingest keeps it. */
    public record Stored(String split, int index, int label, RgbImage image) {}

    /** An image file that is left out of the dataset: it cannot be decoded, or is too small to crop. */
    public record Skipped(String file, String split, String reason) implements Serializable {}

    /** What one unit gave: its stored examples and the image files it skipped. */
    public record Decoded(List<Stored> stored, List<Skipped> skipped) {}

    /** The name of the upstream dataset of an image config in the datasets table. */
    public static final String UPSTREAM = "upstream";

    /** The upstream dataset: train less a seeded validation hold-out, val, and the tree's test images. */
    public static IngestPlan upstream(FileSource files, ExperimentConfig.Images images, long splitSeed) {
        String root = images.upstream;
        if (!isDirectory(files, root)) {
            throw new InvalidInputException("Upstream dataset directory not found: " + root + " (data.images.upstream); expected "
                    + (images.upstreamFormat.equals("image_folder") ? "train/<class>/*.jpg|png and val/<class>/*.jpg|png under it"
                            : "the " + images.upstreamFormat + " binary batches in it"));
        }
        // Training units first, then test units: indices count within each split.
        List<Unit> units = new ArrayList<>();
        int classes;
        int trainCount;
        int testCount;
        if (images.upstreamFormat.equals("image_folder")) {
            ImageFolder trainTree = ImageFolder.scan(files, FileSource.resolve(root, "train"));
            ImageFolder testTree = ImageFolder.scan(files, FileSource.resolve(root, "val"));
            if (!trainTree.classes().equals(testTree.classes())) {
                throw new InvalidInputException("Upstream " + root + "/train and /val have different class directories");
            }
            classes = trainTree.classes().size();
            trainCount = addImages(files, units, trainTree.examples(), "train");
            testCount = addImages(files, units, testTree.examples(), "test");
        } else {
            Kind kind = images.upstreamFormat.equals("cifar10") ? Kind.CIFAR10 : Kind.CIFAR100;
            classes = kind.cifar.classes;
            trainCount = addBatches(files, units, kind.cifar.trainBatches(root), kind, "train");
            testCount = addBatches(files, units, List.of(kind.cifar.testBatch(root)), kind, "test");
        }
        if (classes != images.upstreamClasses) {
            throw new InvalidInputException("Upstream " + root + " has " + classes + " classes but data.images.upstream_classes is "
                    + images.upstreamClasses + "; set it to " + classes);
        }
        if (trainCount != images.upstreamTrain + images.upstreamVal) {
            throw new InvalidInputException("Upstream " + root + " has " + trainCount + " training images but data.images.upstream_train ("
                    + images.upstreamTrain + ") + upstream_val (" + images.upstreamVal + ") is " + (images.upstreamTrain + images.upstreamVal)
                    + "; set upstream_train to " + (trainCount - images.upstreamVal));
        }
        int[] val = Arrays.copyOf(Sampling.permutation(trainCount, splitSeed), images.upstreamVal);
        Arrays.sort(val);
        Map<String, Integer> counts = new LinkedHashMap<>();
        counts.put("train", images.upstreamTrain);
        counts.put("val", images.upstreamVal);
        counts.put("test", testCount);
        return new IngestPlan(UPSTREAM, classes, List.copyOf(units), counts, val);
    }

    /** A task of the suite under {@code tasks_root}, split by its rules. */
    public static IngestPlan task(FileSource files, String name, ExperimentConfig.Images images, long splitSeed) {
        TransferSuite.Task task = TransferSuite.get(name, "transfer.tasks");
        String dir = FileSource.resolve(images.tasksRoot, name);
        if (!isDirectory(files, dir)) {
            throw new InvalidInputException("Task directory not found: " + dir + " (data.images.tasks_root/"
                    + name + "); expected " + task.source() + ", laid out as docs/usage.md, \"Image datasets\", says");
        }
        TransferSuite.Split split = TransferSuite.split(files, task, images.tasksRoot, splitSeed);
        List<Unit> units = new ArrayList<>();
        Map<String, Integer> counts = new LinkedHashMap<>();
        if (task.layout() == TransferSuite.Layout.CIFAR_BINARY) {
            Kind kind = task.classes() == 10 ? Kind.CIFAR10 : Kind.CIFAR100;
            counts.put("train", addBatches(files, units, split.trainBatches(), kind, "train"));
            counts.put("test", addBatches(files, units, split.testBatches(), kind, "test"));
        } else {
            counts.put("train", addImages(files, units, split.train(), "train"));
            counts.put("test", addImages(files, units, split.test(), "test"));
        }
        return new IngestPlan(name, task.classes(), List.copyOf(units), counts, new int[0]);
    }

    /**
     * Reads and decodes one unit, keeping each image as {@link Augmentation#store} makes it
     * ({@code side} x {@code side}); training images whose index is in {@code val} (a plan's
     * sorted {@link #val}) go to "val". An image file that cannot be decoded (or is under 8 pixels
     * a side) is skipped and reported, never fatal. Static, so executors receive the unit and the
     * hold-out only.
     */
    public static Decoded decode(FileSource files, Unit unit, int side, Resampling.Filter filter, int[] val) {
        List<Stored> out = new ArrayList<>();
        if (unit.kind() == Kind.IMAGE) {
            byte[] encoded;
            try (InputStream in = files.open(unit.file())) {
                encoded = in.readAllBytes();
            } catch (IOException e) {
                // Not the image's fault: a storage error fails the task (Spark retries it) rather than lose the image.
                throw new InvalidInputException("Cannot read image " + unit.file() + ": " + IoErrors.describe(e), e);
            }
            RgbImage image;
            try {
                image = RgbImage.decode(encoded, unit.file());
            } catch (InvalidInputException undecodable) {
                return new Decoded(List.of(), List.of(new Skipped(unit.file(), splitOf(unit.split(), unit.index(), val),
                        undecodable.getMessage())));
            }
            if (Math.min(image.width(), image.height()) < 8) {
                return new Decoded(List.of(), List.of(new Skipped(unit.file(), splitOf(unit.split(), unit.index(), val), "Image "
                        + unit.file() + " is " + image.width() + "x" + image.height() + "; images need at least 8 pixels per side")));
            }
            out.add(stored(unit.split(), unit.index(), unit.label(), Augmentation.store(image, side, filter), val));
        } else {
            List<CifarReader.Labeled> records = CifarReader.read(files, unit.file(), unit.kind().cifar);
            for (int r = 0; r < records.size(); r++) {
                out.add(stored(unit.split(), unit.index() + r, records.get(r).label(),
                        Augmentation.store(records.get(r).image(), side, filter), val));
            }
        }
        return new Decoded(out, List.of());
    }


    private static Stored stored(String split, int index, int label, RgbImage image, int[] val) {
        return new Stored(splitOf(split, index, val), index, label, image);
    }

    /** The split an example of a unit's split lands in: training images held out for validation go to "val". */
    private static String splitOf(String split, int index, int[] val) {
        return split.equals("train") && Arrays.binarySearch(val, index) >= 0 ? "val" : split;
    }

    private static boolean isDirectory(FileSource files, String location) {
        try {
            return files.isDirectory(location);
        } catch (IOException e) {
            throw new InvalidInputException("Cannot check dataset directory " + location + ": " + IoErrors.describe(e), e);
        }
    }

    private static int addImages(FileSource files, List<Unit> units, List<ImageFolder.Example> examples, String split) {
        for (int i = 0; i < examples.size(); i++) {
            ImageFolder.Example e = examples.get(i);
            units.add(new Unit(files.qualified(e.file()), Kind.IMAGE, split, e.label(), i));
        }
        return examples.size();
    }

    /** One unit per batch file; record counts come from file sizes, so nothing is decoded here. */
    private static int addBatches(FileSource files, List<Unit> units, List<String> batches, Kind kind, String split) {
        long index = 0;
        for (String file : batches) {
            long size;
            try {
                size = files.length(file);
            } catch (IOException e) {
                throw new InvalidInputException("Cannot read CIFAR batch " + file + ": " + IoErrors.describe(e), e);
            }
            units.add(new Unit(files.qualified(file), kind, split, -1, Math.toIntExact(index)));
            index += CifarReader.records(file, size, kind.cifar);
        }
        return Math.toIntExact(index);
    }
}
