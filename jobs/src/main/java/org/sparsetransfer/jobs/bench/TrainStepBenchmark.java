package org.sparsetransfer.jobs.bench;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.pytorch.jni.JniUtils;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;
import org.sparsetransfer.core.data.ImageSet;
import org.sparsetransfer.core.model.Architecture;
import org.sparsetransfer.core.model.Network;
import org.sparsetransfer.core.model.PrunablePolicy;
import org.sparsetransfer.core.model.ResNet;
import org.sparsetransfer.core.model.SmallCnn;
import org.sparsetransfer.core.model.TorchThreads;
import org.sparsetransfer.core.prune.MagnitudePruner;
import org.sparsetransfer.core.prune.Mask;
import org.sparsetransfer.core.train.TrainingData;
import org.sparsetransfer.core.train.TrainingLoop;
import org.sparsetransfer.core.train.TrainingSchedule;
import org.sparsetransfer.core.vision.Augmentation;
import org.sparsetransfer.core.vision.AugmentedImages;

/**
 * Steps per second of the project's training loop (90%-sparse model, mask re-applied every
 * step) against eager PyTorch doing the same work ({@code bench/pytorch_step.py}), and the share
 * of a step spent preparing its inputs.
 */
final class TrainStepBenchmark implements Benchmark {
    static final Path SCRIPT = Path.of("bench/pytorch_step.py");
    static final String PYTHON = "/usr/bin/python3";
    private static final int EXAMPLES = 2048;

    /** One measured case: a model, its input, batch size and steps. */
    private record Case(String key, Architecture architecture, int channels, int side, int batch, int steps, boolean augmented,
            String pytorchModel) {}

    @Override
    public String name() {
        return "train-step";
    }

    @Override
    public String title() {
        return "Training steps per second vs eager PyTorch, and input overhead";
    }

    @Override
    public Result run(boolean quick) throws Exception {
        List<Case> cases = List.of(
                new Case("small_cnn", new SmallCnn(), 1, 28, 128, quick ? 3 : 150, false, "small_cnn"),
                new Case("resnet18", ResNet.resnet18(32), 3, 32, 64, quick ? 2 : 30, false, "resnet18"),
                new Case("resnet18_augmented", ResNet.resnet18(32), 3, 36, 64, quick ? 2 : 30, true, null));
        Engine.getInstance(); // loads libtorch before its thread count is read
        int threads = JniUtils.getNumThreads();
        String pytorch = pytorchMissing();
        LinkedHashMap<String, String> figures = new LinkedHashMap<>();
        List<String> details = new ArrayList<>();
        double worstInput = 0;
        int repetitions = quick ? 1 : 3;
        String torchVersion = "";
        for (Case c : cases) {
            // Java and PyTorch alternate, so a noisy moment of the machine falls on both; medians are reported.
            double[] stepsPerSecond = new double[repetitions];
            double[] inputShare = new double[repetitions];
            double[] reference = new double[repetitions];
            boolean withReference = c.pytorchModel() != null && pytorch == null;
            for (int r = 0; r < repetitions; r++) {
                double[] javaStep = TorchThreads.exclusive(() -> measure(c));
                stepsPerSecond[r] = javaStep[0];
                inputShare[r] = javaStep[1];
                if (withReference) {
                    String[] out = pytorchStepsPerSecond(c, threads);
                    reference[r] = Double.parseDouble(out[0]);
                    torchVersion = out[1];
                }
            }
            double median = Timing.median(stepsPerSecond);
            worstInput = Math.max(worstInput, Timing.median(inputShare));
            figures.put("train_steps_per_s_" + c.key(), fmt(median));
            figures.put("input_overhead_" + c.key(), String.format(Locale.ROOT, "%.3f", Timing.median(inputShare)));
            if (c.pytorchModel() != null) {
                if (withReference) {
                    figures.put("pytorch_steps_per_s_" + c.key(), fmt(Timing.median(reference)));
                }
                figures.put("train_step_ratio_vs_pytorch_" + c.key(),
                        withReference ? String.format(Locale.ROOT, "%.3f", median / Timing.median(reference)) : "n/a");
            }
        }
        figures.put("input_overhead", String.format(Locale.ROOT, "%.3f", worstInput));
        details.add(String.format(Locale.ROOT, "- libtorch intra-op threads: %d (the PyTorch reference is given the same)", threads));
        details.add("- Each case: random inputs (" + EXAMPLES + " examples, 10 classes), the model pruned to 90% by global magnitude "
                + "over its default prunable tensors, SGD momentum 0.9, weight decay 5e-4, a few warm-up steps, then the timed steps; "
                + "small_cnn 1x28x28 batch 128, resnet18 3x32x32 batch 64 (inputs uploaded once and gathered per batch, as the "
                + "demo's data), resnet18_augmented the same from 36x36 stored RGB bytes through `AugmentedImages` "
                + "(RandomResizedCrop(32) + flip per example in Java, as image configs train)");
        details.add("- input_overhead: time inside `TrainingData.batch` over the loop's wall time; `input_overhead` is the largest");
        details.add("- PyTorch reference: `" + PYTHON + " " + SCRIPT + "`" + (torchVersion.isEmpty() ? "" : ", " + torchVersion)
                + " (same model, batch, optimizer, threads, mask re-application and per-step loss/accuracy read-back)"
                + (pytorch == null ? "" : "; not run: " + pytorch));
        details.add("- Steps per second: medians of " + repetitions + " runs per case, the project's loop and PyTorch alternating");
        details.add("- Targets: train_step_ratio_vs_pytorch >= 1.0, input_overhead <= 0.10.");
        return new Result(figures, details);
    }

    /** {steps per second, input share} of the project's loop on case {@code c}. */
    private static double[] measure(Case c) {
        int n = c.channels() * c.side() * c.side();
        SplittableRandom random = new SplittableRandom(1);
        byte[] pixels = new byte[EXAMPLES * n];
        int[] labels = new int[EXAMPLES];
        for (int i = 0; i < pixels.length; i++) {
            pixels[i] = (byte) random.nextInt(256);
        }
        for (int i = 0; i < EXAMPLES; i++) {
            labels[i] = random.nextInt(10);
        }
        ImageSet images = new ImageSet("bench", c.channels(), c.side(), c.side(), 10, pixels, labels);
        try (Network net = Network.classifier(c.architecture(), 10, 0, Device.cpu());
                TimedInputs data = new TimedInputs(c.augmented() ? new AugmentedImages(net.manager(), images, 32,
                        org.sparsetransfer.core.vision.Resampling.Filter.BILINEAR, Augmentation.Normalization.IMAGENET) : TrainingData.upload(net.manager(), images))) {
            net.setMask(new MagnitudePruner(MagnitudePruner.Scope.GLOBAL).prune(net.weights(),
                    Mask.dense(net.weights(), net.prunableTensors(PrunablePolicy.DEFAULT)), 0.9));
            TrainingLoop loop = new TrainingLoop(new TrainingLoop.Settings(c.batch(), 0.9f, 5e-4f, 0), TrainingLoop.Progress.SILENT);
            BiFunction<Integer, TrainingData, TrainingLoop.Result> run = (steps, d) -> loop.run(net, d,
                    TrainingSchedule.fixedMask(steps, (step, total) -> 0.01f), null);
            run.apply(3, data);
            data.reset();
            TrainingLoop.Result result = run.apply(c.steps(), data);
            return new double[] {c.steps() / result.wallSeconds(), data.seconds() / result.wallSeconds()};
        }
    }

    /** Null when the reference can run, else why not. */
    private static String pytorchMissing() throws InterruptedException {
        return pytorchMissing("import torch");
    }

    /** Null when {@link #SCRIPT}'s directory is here and {@code imports} run in {@link #PYTHON}, else why not. */
    static String pytorchMissing(String imports) throws InterruptedException {
        if (!Files.isRegularFile(SCRIPT)) {
            return SCRIPT + " not found (run bench from the repository root)";
        }
        try {
            Process p = new ProcessBuilder(PYTHON, "-c", imports).redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            if (p.waitFor() != 0) {
                return "python3-torch or python3-torchvision is not installed (bench/setup-pytorch.sh installs them)";
            }
        } catch (IOException e) {
            return PYTHON + " is not available";
        }
        return null;
    }

    /** {steps per second, "torch=VERSION threads=N"} of one run of the PyTorch reference. */
    private static String[] pytorchStepsPerSecond(Case c, int threads) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(PYTHON, SCRIPT.toString(), "--model", c.pytorchModel(), "--batch", String.valueOf(c.batch()),
                "--steps", String.valueOf(c.steps()), "--warmup", "3", "--threads", String.valueOf(threads),
                "--examples", String.valueOf(EXAMPLES)).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.MINUTES) || p.exitValue() != 0) {
            throw new IOException("the PyTorch reference failed: " + output.strip());
        }
        String steps = output.lines().filter(l -> l.startsWith("steps_per_s=")).map(l -> l.substring(12)).findFirst()
                .orElseThrow(() -> new IOException("the PyTorch reference printed no steps_per_s: " + output));
        String version = output.lines().filter(l -> l.startsWith("torch=")).findFirst().orElse("");
        return new String[] {steps, version};
    }

    private static String fmt(double value) {
        return String.format(Locale.ROOT, "%.3f", value);
    }

    /** Times the loop's calls for batches; everything else is delegated. */
    private static final class TimedInputs implements TrainingData {
        private final TrainingData inner;
        private long nanos;

        TimedInputs(TrainingData inner) {
            this.inner = inner;
        }

        void reset() {
            nanos = 0;
        }

        double seconds() {
            return nanos / 1e9;
        }

        @Override
        public NDArray[] batch(long[] indices, long seed, int epoch) {
            long start = System.nanoTime();
            NDArray[] batch = inner.batch(indices, seed, epoch);
            nanos += System.nanoTime() - start;
            return batch;
        }

        /** Passed on: the inputs a prefetch prepares in the background are not counted as time in the step. */
        @Override
        public void prefetch(long[] indices, long seed, int epoch) {
            inner.prefetch(indices, seed, epoch);
        }

        @Override
        public int size() {
            return inner.size();
        }

        @Override
        public int numClasses() {
            return inner.numClasses();
        }

        @Override
        public int[] labelValues() {
            return inner.labelValues();
        }

        @Override
        public NDArray[] range(int from, int to) {
            return inner.range(from, to);
        }

        @Override
        public void close() {
            inner.close();
        }
    }
}
