package org.sparsetransfer.jobs.stages;

import ai.djl.Device;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.sparsetransfer.core.config.ExperimentConfig;
import org.sparsetransfer.core.data.ImageSource;
import org.sparsetransfer.core.data.SpilledImages;
import org.sparsetransfer.core.experiment.FeatureCache;
import org.sparsetransfer.core.experiment.TrainedModel;
import org.sparsetransfer.core.experiment.TransferExperiment;
import org.sparsetransfer.core.experiment.UpstreamExperiment;
import org.sparsetransfer.core.model.Weights;
import org.sparsetransfer.core.experiment.UpstreamSchedules;
import org.sparsetransfer.core.prune.Criterion;
import org.sparsetransfer.core.prune.MagnitudePruner;
import org.sparsetransfer.core.prune.OneShotSchedule;
import org.sparsetransfer.core.train.TrainingSchedule;
import org.sparsetransfer.core.task.TaskRegistry;
import org.sparsetransfer.core.train.ClassCounts;
import org.sparsetransfer.core.train.LocalSgd;
import org.sparsetransfer.core.train.TrainingLoop;
import org.sparsetransfer.core.transfer.Regime;
import org.sparsetransfer.core.vision.ImageEncoding;
import org.sparsetransfer.core.vision.SyntheticImages;
import org.sparsetransfer.jobs.spark.SparkSessions;
import org.sparsetransfer.jobs.tables.DatasetTable;
import org.sparsetransfer.jobs.tables.Warehouse;

/**
 * The child JVM of the data-scale benchmark (bench suite, {@code data-scale}): each mode runs one
 * piece of the pipeline's real data path on Spark local[1] in this JVM, so the JVM's peak memory
 * is a task's plus the driver's. Modes:
 * <ul>
 *   <li>{@code generate DIR IMAGES SIDE}: a datasets table under DIR with dataset {@code d}: IMAGES
 *       generated RGB training images of SIDE px (10 learnable classes), and a tenth as many each
 *       for val and test; the rows are made on executors, as ingest makes them.
 *   <li>{@code upstream DIR CROP BUFFER_MB STEPS}: one-shot pruning to 50% then STEPS steps of
 *       one-worker training, as a Spark task reading its shard (the whole training split) from the
 *       table's files; then val and test scored as Spark tasks, and the whole training split
 *       counted as an evaluation part.
 *   <li>{@code transfer DIR CROP BUFFER_MB STEPS}: one linear transfer run to the dataset's train
 *       and test splits, read as the transfer stage reads a task's splits.
 * </ul>
 * Prints {@code probe KEY=VALUE} lines for the benchmark.
 */
public final class DataScaleProbe {
    private static final int CLASSES = 10;

    private DataScaleProbe() {}

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[1]);
        SparkSession spark = SparkSessions.create("data-scale-probe", "local[1]");
        try {
            JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
            DatasetTable table = new DatasetTable(spark, new Warehouse(dir));
            switch (args[0]) {
                case "generate" -> generate(jsc, spark, table, Integer.parseInt(args[2]), Integer.parseInt(args[3]));
                case "upstream" -> upstream(jsc, table, config(args), Integer.parseInt(args[4]));
                case "transfer" -> transfer(table, config(args));
                default -> throw new IllegalArgumentException("unknown probe mode " + args[0] + "; expected generate, upstream or transfer");
            }
        } finally {
            spark.stop();
        }
    }

    private static void generate(JavaSparkContext jsc, SparkSession spark, DatasetTable table, int images, int side) {
        long imageBytes = 3L * side * side;
        int perSplit = Math.max(1, images / 10);
        List<long[]> slices = new ArrayList<>(); // (split code, first idx, count), about 64 MB of pixels each
        int perSlice = (int) Math.max(1, (64L << 20) / imageBytes);
        int[] sizes = {images, perSplit, perSplit};
        for (int s = 0; s < 3; s++) {
            for (int from = 0; from < sizes[s]; from += perSlice) {
                slices.add(new long[] {s, from, Math.min(perSlice, sizes[s] - from)});
            }
        }
        JavaRDD<Row> rows = jsc.parallelize(slices, slices.size()).flatMap(slice -> {
            String split = List.of("train", "val", "test").get((int) slice[0]);
            List<Row> out = new ArrayList<>();
            for (long i = slice[1]; i < slice[1] + slice[2]; i++) {
                SplittableRandom random = new SplittableRandom(slice[0] * 1_000_003L + i);
                int label = random.nextInt(CLASSES);
                out.add(DatasetTable.row("d", split, (int) i, label, CLASSES, side, side, SyntheticImages.image(label, side, side, random)
                        .planes(), ImageEncoding.RAW, "bench"));
            }
            return out.iterator();
        });
        table.replace("d", spark.createDataFrame(rows, DatasetTable.SCHEMA));
        System.out.printf(Locale.ROOT, "probe generated=%d split_bytes=%d%n", images, images * imageBytes);
    }

    private static void upstream(JavaSparkContext jsc, DatasetTable table, ExperimentConfig config, int steps) throws Exception {
        Map<String, Long> counts = table.splitCounts("d");
        UpstreamData data = new UpstreamData("d", table.files("d"), counts.get("train"), counts.get("val"), counts.get("test"),
                config.data.bufferBytes());
        UpstreamExperiment experiment = UpstreamExperiment.forModel(config, CLASSES, Device.cpu());
        Weights start = experiment.initialWeights();
        LocalSgd.Trainer trainer = DataParallelTraining.trainer(jsc, "probe", config, config.upstream.dataParallel,
                UpstreamData.TrainingRows.wholeSplit(data), LocalSgd.StatePolicy.NONE);
        long t0 = System.nanoTime();
        // One-shot pruning to 0.5, then fine-tuning: a training that prunes and keeps a mask, as a pruning stage does.
        LocalSgd.Result result = trainer.train(new OneShotSchedule(0.5, steps, TrainingSchedule.LearningRate.linear(0.01f, 0f)),
                MagnitudePruner.of(Criterion.GLOBAL), new UpstreamSchedules(config, data.trainExamples()).pruneSettings("probe", 0.5),
                start, experiment.denseMask(start), null, -1);
        double trainSeconds = (System.nanoTime() - t0) / 1e9;
        TrainedModel scored = DataParallelTraining.score(jsc, "probe", config, data, result);
        ImageSource train = data.part("train", 0, 1);
        t0 = System.nanoTime();
        ClassCounts whole = experiment.count(result.weights(), result.mask(), train);
        double countSeconds = (System.nanoTime() - t0) / 1e9;
        System.out.printf(Locale.ROOT, "probe train_images=%d split_bytes=%d spilled=%b steps=%d train_s=%.1f sparsity=%.4f "
                        + "mask_exact=%b val_top1=%.4f train_split_top1=%.4f train_split_examples=%d count_s=%.1f heap_max=%d%n",
                train.size(), (long) train.size() * train.imageBytes(), train instanceof SpilledImages, result.steps(), trainSeconds,
                result.mask().sparsity(), result.mask().holds(result.weights()), scored.val().top1(), whole.scores().top1(),
                whole.examples(), countSeconds, Runtime.getRuntime().maxMemory());
    }

    private static void transfer(DatasetTable table, ExperimentConfig config) throws Exception {
        List<String> files = table.files("d");
        ImageSource train = DatasetTable.readFiles("d", "train", files, config.data.bufferBytes());
        ImageSource test = DatasetTable.readFiles("d", "test", files, config.data.bufferBytes());
        UpstreamExperiment experiment = UpstreamExperiment.forModel(config, CLASSES, Device.cpu());
        Weights weights = experiment.initialWeights();
        long t0 = System.nanoTime();
        TransferExperiment.Outcome outcome;
        try (FeatureCache features = FeatureCache.holdingOne()) {
            outcome = new TransferExperiment(config, Device.cpu()).run(weights, experiment.denseMask(weights), "mnist",
                    new TaskRegistry.Splits(train, null, test), Regime.LINEAR, 0, features, LocalSgd.StatePolicy.NONE,
                    TrainingLoop.Progress.SILENT);
        }
        System.out.printf(Locale.ROOT, "probe train_images=%d split_bytes=%d spilled=%b steps=%d transfer_s=%.1f test_top1=%.4f "
                        + "heap_max=%d%n", train.size(), (long) train.size() * train.imageBytes(), train instanceof SpilledImages,
                outcome.steps(), (System.nanoTime() - t0) / 1e9, outcome.scores().top1(), Runtime.getRuntime().maxMemory());
        if (outcome.error() != null) {
            throw new IllegalStateException("the transfer run failed: " + outcome.error());
        }
    }

    /** ResNet-18 on CROP-px crops of the stored images, with a BUFFER_MB data buffer and STEPS steps per training. */
    private static ExperimentConfig config(String[] args) {
        ExperimentConfig config = new ExperimentConfig();
        config.model = "resnet18";
        config.data.source = org.sparsetransfer.core.config.DataSource.IMAGES;
        config.data.images.imageSize = Integer.parseInt(args[2]);
        config.data.bufferMb = Double.parseDouble(args[3]);
        config.pruning.batchSize = 32;
        config.transfer.batchSize = 32;
        config.transfer.linear.steps = Integer.parseInt(args[4]);
        config.trainingStates.everySteps = 0;
        return config;
    }
}
