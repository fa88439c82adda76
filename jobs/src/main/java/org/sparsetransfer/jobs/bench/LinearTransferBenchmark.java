package org.sparsetransfer.jobs.bench;

import ai.djl.Device;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import org.sparsetransfer.core.config.ExperimentConfig;
import org.sparsetransfer.core.data.ImageSet;
import org.sparsetransfer.core.experiment.FeatureCache;
import org.sparsetransfer.core.experiment.TransferExperiment;
import org.sparsetransfer.core.model.Architecture;
import org.sparsetransfer.core.model.Network;
import org.sparsetransfer.core.model.PrunablePolicy;
import org.sparsetransfer.core.model.Weights;
import org.sparsetransfer.core.prune.MagnitudePruner;
import org.sparsetransfer.core.prune.Mask;
import org.sparsetransfer.core.task.TaskRegistry;
import org.sparsetransfer.core.train.LocalSgd;
import org.sparsetransfer.core.train.TrainingLoop;
import org.sparsetransfer.core.transfer.Regime;

/**
 * Linear transfer of one checkpoint to one task over several seeds, with the frozen backbone's
 * features extracted per run (no cache) and once for all seeds (the transfer stage's cache),
 * side by side; the scores must agree.
 */
final class LinearTransferBenchmark implements Benchmark {
    private static final int CLASSES = 10;

    @Override
    public String name() {
        return "linear-transfer";
    }

    @Override
    public String title() {
        return "Linear transfer with and without the feature cache";
    }

    @Override
    public Result run(boolean quick) throws Exception {
        int seeds = quick ? 2 : 3;
        int train = quick ? 128 : 2000;
        int test = quick ? 64 : 1000;
        ExperimentConfig config = new ExperimentConfig();
        config.model = "resnet18";
        config.data.source = org.sparsetransfer.core.config.DataSource.IMAGES;
        config.data.images.imageSize = 32;
        config.data.images.resize = 36;
        config.transfer.linear.steps = quick ? 5 : 60;
        TaskRegistry.Splits task = new TaskRegistry.Splits(images("train", train, 1), null, images("test", test, 2));
        Weights weights;
        Mask mask;
        try (Network net = Network.classifier(Architecture.byName(config.model, 32), 1000, 0, Device.cpu())) {
            weights = net.weights();
            mask = new MagnitudePruner(MagnitudePruner.Scope.GLOBAL).prune(weights,
                    Mask.dense(weights, net.prunableTensors(PrunablePolicy.DEFAULT)), 0.9);
        }
        TransferExperiment transfer = new TransferExperiment(config, Device.cpu());
        List<Double> uncachedScores = new ArrayList<>();
        List<Double> cachedScores = new ArrayList<>();
        double[] t = Timing.medians(quick ? 1 : 3,
                () -> runSeeds(transfer, weights, mask, task, seeds, FeatureCache.none(), uncachedScores),
                () -> runSeeds(transfer, weights, mask, task, seeds, FeatureCache.holdingOne(), cachedScores));
        if (!uncachedScores.equals(cachedScores)) {
            throw new IllegalStateException("cached features changed the scores: " + uncachedScores + " vs " + cachedScores);
        }
        LinkedHashMap<String, String> figures = new LinkedHashMap<>();
        figures.put("linear_transfer_cache_speedup", String.format(Locale.ROOT, "%.2f", t[0] / t[1]));
        figures.put("linear_transfer_uncached_s", PruningThresholdBenchmark.fmt(t[0]));
        figures.put("linear_transfer_cached_s", PruningThresholdBenchmark.fmt(t[1]));
        List<String> details = new ArrayList<>();
        details.add(String.format(Locale.ROOT, "- Work: linear transfer of a 90%%-sparse ResNet-18 (random weights) to %d random "
                + "36x36 RGB training and %d test images (centre crop 32), %d steps per run, %d seeds", train, test,
                config.transfer.linear.steps, seeds));
        details.add("- `linear_transfer_uncached_s`: the seeds one after another, each extracting the backbone's features; "
                + "`linear_transfer_cached_s`: the same with one `FeatureCache` for the checkpoint and task, as the transfer stage "
                + "keeps per Spark task. Both give the same scores (checked every run).");
        details.add(Timing.DESCRIPTION);
        return new Result(figures, details);
    }

    private static Object runSeeds(TransferExperiment transfer, Weights weights, Mask mask, TaskRegistry.Splits task, int seeds,
            FeatureCache cache, List<Double> scores) throws Exception {
        scores.clear();
        try (cache) {
            for (long seed = 0; seed < seeds; seed++) {
                scores.add(transfer.run(weights, mask, "mnist", task, Regime.LINEAR, seed, cache, LocalSgd.StatePolicy.NONE,
                        TrainingLoop.Progress.SILENT).scores().top1());
            }
        }
        return scores;
    }

    private static ImageSet images(String name, int count, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        byte[] pixels = new byte[count * 3 * 36 * 36];
        int[] labels = new int[count];
        for (int i = 0; i < pixels.length; i++) {
            pixels[i] = (byte) random.nextInt(256);
        }
        for (int i = 0; i < count; i++) {
            labels[i] = random.nextInt(CLASSES);
        }
        return new ImageSet(name, 3, 36, 36, CLASSES, pixels, labels);
    }
}
