package org.sparsetransfer.core.task;

import java.util.LinkedHashMap;
import java.util.Map;
import org.sparsetransfer.core.InvalidInputException;
import org.sparsetransfer.core.config.ExperimentConfig;
import org.sparsetransfer.core.data.DemoSources;
import org.sparsetransfer.core.data.ImageOps;
import org.sparsetransfer.core.data.ImageSet;
import org.sparsetransfer.core.data.ImageSource;
import org.sparsetransfer.core.data.Sampling;

/**
 * Every dataset the experiments use, with its fixed, seeded splits and its metric: the one
 * place that says what a task is. Splits depend only on the data config (sizes and
 * {@code split_seed}); test examples are never used for model selection.
 */
public final class TaskRegistry {
    /** The upstream dataset (Fashion-MNIST): train / val / test. */
    public static final String UPSTREAM = "fashion_mnist";

    /** The upstream dataset's name in the datasets table: Fashion-MNIST for the demo, the image tree for data.source images. */
    public static String upstreamDataset(ExperimentConfig config) {
        return config.data.source == org.sparsetransfer.core.config.DataSource.IMAGES ? org.sparsetransfer.core.vision.IngestPlan.UPSTREAM : UPSTREAM;
    }

    /** The metric of {@code task} among the config's tasks (the demo's, or the 12-task transfer suite's); unknown tasks are named with {@code where}. */
    public static Metric metric(ExperimentConfig config, String task, String where) {
        return config.data.source == org.sparsetransfer.core.config.DataSource.IMAGES ? org.sparsetransfer.core.vision.TransferSuite.get(task, where).metric()
                : get(task, where).metric();
    }

    /** A task's splits. {@code val} is null for downstream tasks. */
    public record Splits(ImageSource train, ImageSource val, ImageSource test) {}

    /** A downstream task. */
    public record Task(String name, Metric metric, String description) {}

    private static final Map<String, Task> TASKS = new LinkedHashMap<>();

    static {
        add(new Task("mnist", Metric.TOP1,
                "MNIST digits: task_train random training images, task_test test images"));
        add(new Task("mnist_fewshot", Metric.TOP1,
                "MNIST few-shot: fewshot_per_class training images per class, the mnist test split"));
        add(new Task("digits8x8", Metric.MEAN_PER_CLASS,
                "scikit-learn 8x8 digits upsampled to 20x20 in a 28x28 frame; stratified 2/3 train, 1/3 test"));
        add(new Task("mnist_inverted", Metric.TOP1,
                "MNIST with inverted polarity (255 - p), a domain shift: task_train other training images"));
    }

    private TaskRegistry() {}

    private static void add(Task task) {
        TASKS.put(task.name(), task);
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

    /** Fashion-MNIST: a seeded train/val split of its training set, and a seeded test subset. */
    public static Splits upstream(DemoSources sources, ExperimentConfig.Data d) {
        ImageSet all = sources.fashionTrain();
        int[][] parts = Sampling.split(all.size(), d.upstreamTrain, seed(d, "upstream"));
        int[] val = java.util.Arrays.copyOf(parts[1], d.upstreamVal);
        return new Splits(all.subset(UPSTREAM, parts[0]), all.subset(UPSTREAM, val),
                head(sources.fashionTest(), UPSTREAM, d.upstreamTest, seed(d, "upstream-test")));
    }

    /** A downstream task's train and test splits. */
    public static Splits downstream(String name, DemoSources sources, ExperimentConfig.Data d) {
        get(name, "the task registry");
        switch (name) {
            case "mnist" -> {
                ImageSet train = sources.mnistTrain();
                return new Splits(train.subset(name, firstOf(train.size(), d.taskTrain, seed(d, name))), null, mnistTest(sources, d, name));
            }
            case "mnist_fewshot" -> {
                ImageSet train = sources.mnistTrain();
                return new Splits(train.subset(name, Sampling.perClass(train.labels(), 10, d.fewshotPerClass, seed(d, name))),
                        null, mnistTest(sources, d, name));
            }
            case "digits8x8" -> {
                ImageSet digits = ImageOps.resizeAndPad(sources.digits(), name, 20, 4);
                int[][] parts = Sampling.stratifiedSplit(digits.labels(), 10, 2.0 / 3.0, seed(d, name));
                int testSize = Math.min(parts[1].length, d.taskTest);
                return new Splits(digits.subset(name, parts[0]), null,
                        digits.subset(name, java.util.Arrays.copyOf(parts[1], testSize)));
            }
            case "mnist_inverted" -> {
                ImageSet train = sources.mnistTrain();
                return new Splits(train.subset(name, firstOf(train.size(), d.taskTrain, seed(d, name))).inverted(name), null,
                        mnistTest(sources, d, name).inverted(name));
            }
            default -> throw new IllegalStateException("task " + name + " is registered but has no splits");
        }
    }

    /**
     * A task's training-split size for planning without data: the config's size for the MNIST
     * tasks (or per-class count x 10 classes), the published size of a suite task's split; empty
     * where it is only known once the data is read (digits8x8's stratified split).
     */
    public static java.util.OptionalLong plannedTrainSize(ExperimentConfig config, String task) {
        if (config.data.source == org.sparsetransfer.core.config.DataSource.IMAGES) {
            return java.util.OptionalLong.of(org.sparsetransfer.core.vision.TransferSuite.get(task, "transfer.tasks").publishedTrain());
        }
        return switch (get(task, "transfer.tasks").name()) {
            case "mnist", "mnist_inverted" -> java.util.OptionalLong.of(Math.min(MNIST_TRAIN, config.data.taskTrain));
            case "mnist_fewshot" -> java.util.OptionalLong.of(10L * config.data.fewshotPerClass);
            case "digits8x8" -> java.util.OptionalLong.empty();
            default -> throw new IllegalStateException("task " + task + " is registered but has no planned size");
        };
    }

    /** MNIST's training set: 60,000 images. */
    private static final int MNIST_TRAIN = 60_000;

    private static ImageSet mnistTest(DemoSources sources, ExperimentConfig.Data d, String name) {
        return head(sources.mnistTest(), name, d.taskTest, seed(d, "mnist-test"));
    }

    private static ImageSet head(ImageSet set, String name, int count, long seed) {
        return set.subset(name, firstOf(set.size(), count, seed));
    }

    private static int[] firstOf(int n, int count, long seed) {
        return Sampling.split(n, Math.min(n, count), seed)[0];
    }

    /** Each split draws from its own stream: changing one task's sizes leaves the others alone. */
    private static long seed(ExperimentConfig.Data d, String purpose) {
        return d.splitSeed * 1_000_003L + purpose.hashCode();
    }
}
