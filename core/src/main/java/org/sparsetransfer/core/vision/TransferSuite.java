package org.sparsetransfer.core.vision;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.sparsetransfer.core.InvalidInputException;
import org.sparsetransfer.core.IoErrors;
import org.sparsetransfer.core.io.FileSource;
import org.sparsetransfer.core.data.Sampling;
import org.sparsetransfer.core.task.Metric;

/**
 * The twelve downstream tasks of Iofinova et al. (2022), after Kornblith et al. (2019): where each
 * is expected on disk under a tasks root, its number of classes, how its train/test split is made,
 * and its metric (mean per-class accuracy for Aircraft, Pets, Caltech-101 and Flowers, top-1
 * otherwise). None of this data can be downloaded by the project; {@link #split} checks a prepared
 * tree and lists its examples.
 */
public final class TransferSuite {
    /** How a task's files are laid out and split. */
    public enum Layout {
        /** {@code <task>/train/<class>/*} and {@code <task>/test/<class>/*}, from the dataset's official split files. */
        TRAIN_TEST_FOLDERS,
        /** One ImageFolder {@code <task>/<class>/*}: a seeded {@code trainPerClass} images per class train, the rest test. */
        PER_CLASS_FOLDER,
        /** The CIFAR binary batches under {@code <task>/} (cifar-10-batches-bin or cifar-100-binary, flattened). */
        CIFAR_BINARY
    }

    /**
     * A task; {@code publishedTrain} is its training split's size as Kornblith et al. (2019) list it,
     * for planning before ingest (the ingest counts the tree it is given).
     */
    public record Task(String name, int publishedTrain, String title, int classes, Metric metric, Layout layout, int trainPerClass,
            String source) {}

    /** A task's examples on disk: ImageFolder examples, or for CIFAR the batch files of each split. */
    public record Split(List<String> classes, List<ImageFolder.Example> train, List<ImageFolder.Example> test,
            List<String> trainBatches, List<String> testBatches) {}

    private static final Map<String, Task> TASKS = new LinkedHashMap<>();

    static {
        add("aircraft", 6_667, "FGVC-Aircraft (variants)", 100, Metric.MEAN_PER_CLASS, Layout.TRAIN_TEST_FOLDERS, 0,
                "trainval / test of fgvc-aircraft-2013b");
        add("birdsnap", 47_386, "Birdsnap", 500, Metric.TOP1, Layout.TRAIN_TEST_FOLDERS, 0, "the images that still download; test_images.txt");
        add("caltech101", 3_060, "Caltech-101", 102, Metric.MEAN_PER_CLASS, Layout.PER_CLASS_FOLDER, 30,
                "101_ObjectCategories (with BACKGROUND_Google): 30 train images per class, the rest test");
        add("caltech256", 15_420, "Caltech-256", 257, Metric.TOP1, Layout.PER_CLASS_FOLDER, 60,
                "256_ObjectCategories (with 257.clutter): 60 train images per class, the rest test");
        add("cars", 8_144, "Stanford Cars", 196, Metric.TOP1, Layout.TRAIN_TEST_FOLDERS, 0, "cars_train / cars_test by the devkit's annotations");
        add("cifar10", 50_000, "CIFAR-10", 10, Metric.TOP1, Layout.CIFAR_BINARY, 0, "cifar-10-batches-bin: data_batch_1..5.bin, test_batch.bin");
        add("cifar100", 50_000, "CIFAR-100", 100, Metric.TOP1, Layout.CIFAR_BINARY, 0, "cifar-100-binary: train.bin, test.bin (fine labels)");
        add("dtd", 3_760, "Describable Textures (DTD)", 47, Metric.TOP1, Layout.TRAIN_TEST_FOLDERS, 0, "split 1: train + val / test");
        add("flowers", 2_040, "Oxford Flowers-102", 102, Metric.MEAN_PER_CLASS, Layout.TRAIN_TEST_FOLDERS, 0,
                "setid.mat: trnid + valid / tstid");
        add("food101", 75_750, "Food-101", 101, Metric.TOP1, Layout.TRAIN_TEST_FOLDERS, 0, "meta/train.txt / meta/test.txt");
        add("pets", 3_680, "Oxford-IIIT Pets", 37, Metric.MEAN_PER_CLASS, Layout.TRAIN_TEST_FOLDERS, 0, "annotations/trainval.txt / test.txt");
        add("sun397", 19_850, "SUN397", 397, Metric.TOP1, Layout.TRAIN_TEST_FOLDERS, 0, "partition 1: Training_01.txt / Testing_01.txt");
    }

    private TransferSuite() {}

    private static void add(String name, int publishedTrain, String title, int classes, Metric metric, Layout layout, int perClass,
            String source) {
        TASKS.put(name, new Task(name, publishedTrain, title, classes, metric, layout, perClass, source));
    }

    public static Map<String, Task> tasks() {
        return java.util.Collections.unmodifiableMap(TASKS);
    }

    public static Task get(String name, String where) {
        Task task = TASKS.get(name);
        if (task == null) {
            throw new InvalidInputException("Unknown task '" + name + "' at " + where + "; expected one of " + TASKS.keySet());
        }
        return task;
    }

    /** Checks {@code root/<task>} against the task's layout and class count, and lists its train and test examples. */
    public static Split split(FileSource files, Task task, String root, long seed) {
        String dir = FileSource.resolve(root, task.name());
        return switch (task.layout()) {
            case TRAIN_TEST_FOLDERS -> {
                ImageFolder train = checked(task, ImageFolder.scan(files, FileSource.resolve(dir, "train")));
                ImageFolder test = checked(task, ImageFolder.scan(files, FileSource.resolve(dir, "test")));
                if (!train.classes().equals(test.classes())) {
                    throw new InvalidInputException(task.title() + ": " + dir + "/train and /test have different class directories");
                }
                yield new Split(train.classes(), train.examples(), test.examples(), List.of(), List.of());
            }
            case PER_CLASS_FOLDER -> {
                ImageFolder all = checked(task, ImageFolder.scan(files, dir));
                List<ImageFolder.Example> examples = all.examples();
                int[] labels = examples.stream().mapToInt(ImageFolder.Example::label).toArray();
                int[] counts = new int[task.classes()];
                for (int label : labels) {
                    counts[label]++;
                }
                for (int c = 0; c < counts.length; c++) {
                    if (counts[c] <= task.trainPerClass()) {
                        throw new InvalidInputException(task.title() + ": class " + all.classes().get(c) + " has " + counts[c]
                                + " images; the split takes " + task.trainPerClass() + " per class for training and needs at least one more for testing");
                    }
                }
                boolean[] isTrain = new boolean[examples.size()];
                for (int i : Sampling.perClass(labels, task.classes(), task.trainPerClass(), seed)) {
                    isTrain[i] = true;
                }
                List<ImageFolder.Example> train = new ArrayList<>();
                List<ImageFolder.Example> test = new ArrayList<>();
                for (int i = 0; i < examples.size(); i++) {
                    (isTrain[i] ? train : test).add(examples.get(i));
                }
                yield new Split(all.classes(), train, test, List.of(), List.of());
            }
            case CIFAR_BINARY -> {
                CifarReader.Variant variant = CifarReader.Variant.withClasses(task.classes());
                List<String> train = variant.trainBatches(dir);
                List<String> test = List.of(variant.testBatch(dir));
                for (String batch : concat(train, test)) {
                    boolean present;
                    try {
                        present = files.isFile(batch);
                    } catch (IOException e) {
                        throw new InvalidInputException(task.title() + ": cannot check " + batch + ": " + IoErrors.describe(e), e);
                    }
                    if (!present) {
                        throw new InvalidInputException(task.title() + ": " + batch + " is missing; expected " + task.source() + " under " + dir);
                    }
                }
                yield new Split(List.of(), List.of(), List.of(), train, test);
            }
        };
    }

    private static ImageFolder checked(Task task, ImageFolder folder) {
        if (folder.classes().size() != task.classes()) {
            throw new InvalidInputException(task.title() + ": " + folder.root() + " has " + folder.classes().size()
                    + " class directories, expected " + task.classes() + " (" + task.source() + ")");
        }
        return folder;
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }
}
