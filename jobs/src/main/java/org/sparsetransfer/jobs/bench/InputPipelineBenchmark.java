package org.sparsetransfer.jobs.bench;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
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
import org.apache.commons.io.file.PathUtils;
import org.sparsetransfer.core.data.Sampling;
import org.sparsetransfer.core.vision.Augmentation;
import org.sparsetransfer.core.vision.AugmentedImages;
import org.sparsetransfer.core.vision.EncodedImages;
import org.sparsetransfer.core.vision.ImageEncoding;
import org.sparsetransfer.core.vision.Resampling;
import org.sparsetransfer.core.vision.RgbImage;
import org.sparsetransfer.core.vision.SyntheticImages;

/**
 * Training images per second of the project's input pipeline (JPEG decoding, RandomResizedCrop,
 * flip, normalization and batching in {@link AugmentedImages} on its loader threads) against
 * torchvision's transforms in a DataLoader with as many workers ({@code bench/input_pipeline.py}),
 * on the same JPEG files.
 */
final class InputPipelineBenchmark implements Benchmark {
    static final Path SCRIPT = Path.of("bench/input_pipeline.py");
    private static final int SIDE = 256;
    private static final int CROP = 224;
    private static final int BATCH = 64;
    private static final int CLASSES = 10;

    @Override
    public String name() {
        return "input-pipeline";
    }

    @Override
    public String title() {
        return "Input pipeline against torchvision's";
    }

    @Override
    public Result run(boolean quick) throws Exception {
        int count = quick ? 128 : 1024;
        int workers = Math.max(1, Runtime.getRuntime().availableProcessors());
        int repetitions = quick ? 1 : 3;
        Path root = Files.createTempDirectory("sparse-transfer-bench-input-");
        try {
            byte[][] jpegs = new byte[count][];
            int[] labels = new int[count];
            long bytes = 0;
            for (int i = 0; i < count; i++) {
                labels[i] = i % CLASSES;
                jpegs[i] = ImageEncoding.JPEG.encode(SyntheticImages.image(labels[i], SIDE, SIDE, new SplittableRandom(i)));
                bytes += jpegs[i].length;
                Path file = root.resolve(String.format(Locale.ROOT, "class_%02d/%05d.jpg", labels[i], i));
                Files.createDirectories(file.getParent());
                Files.write(file, jpegs[i]);
            }
            EncodedImages images = EncodedImages.onHeap("bench", SIDE, SIDE, CLASSES, labels, ImageEncoding.JPEG, jpegs);
            String pythonMissing = TrainStepBenchmark.pytorchMissing("import torch, torchvision");
            List<Double> project = new ArrayList<>();
            List<Double> decodeOnly = new ArrayList<>();
            List<Double> reference = new ArrayList<>();
            String versions = "";
            projectImagesPerSecond(images, workers, 1); // warm-up: JIT
            for (int r = 0; r < repetitions; r++) {
                project.add(projectImagesPerSecond(images, workers, 2));
                decodeOnly.add(decodeImagesPerSecond(images));
                if (pythonMissing == null) {
                    String[] out = referenceImagesPerSecond(root, workers);
                    reference.add(Double.parseDouble(out[0]));
                    versions = out[1];
                }
            }
            LinkedHashMap<String, String> figures = new LinkedHashMap<>();
            double mine = median(project);
            figures.put("input_ratio_vs_torchvision", pythonMissing == null
                    ? String.format(Locale.ROOT, "%.3f", mine / median(reference)) : "n/a");
            figures.put("project_images_per_s", String.format(Locale.ROOT, "%.1f", mine));
            figures.put("torchvision_images_per_s", pythonMissing == null ? String.format(Locale.ROOT, "%.1f", median(reference)) : "n/a");
            figures.put("project_decode_only_images_per_s", String.format(Locale.ROOT, "%.1f", median(decodeOnly)));
            List<String> details = new ArrayList<>();
            details.add(String.format(Locale.ROOT, "- Data: %d generated %dx%d JPEG files (quality 90, %.1f KB each on average; "
                    + "noisy stripes, 10 classes) in an ImageFolder tree; both pipelines read the same files' bytes", count, SIDE, SIDE,
                    bytes / 1024.0 / count));
            details.add(String.format(Locale.ROOT, "- Work per image: decode, RandomResizedCrop(%d) (scale 0.08-1, bilinear, "
                    + "antialiased), horizontal flip, ToTensor + ImageNet normalization, batches of %d; %d loader threads "
                    + "(`data.images.loader_threads`) against a DataLoader with %d worker processes; two passes over the files per "
                    + "repetition, after a warm-up pass", CROP, BATCH, workers, workers));
            details.add("- Project: `AugmentedImages` over `EncodedImages` (the JDK's ImageIO JPEG decoder); "
                    + "`project_decode_only_images_per_s`: the same decoding on one thread, nothing else");
            details.add("- Reference: `" + TrainStepBenchmark.PYTHON + " " + SCRIPT + "`" + (versions.isEmpty() ? "" : ", " + versions)
                    + " (PIL's decoder, libjpeg-turbo)" + (pythonMissing == null ? "" : "; not run: " + pythonMissing));
            details.add("- Images per second: medians of " + repetitions + " repetitions, the two pipelines alternating. Target: "
                    + "input_ratio_vs_torchvision >= 1.0.");
            return new Result(figures, details);
        } finally {
            PathUtils.deleteDirectory(root);
        }
    }

    private static double projectImagesPerSecond(EncodedImages images, int threads, int passes) {
        int n = images.size() / BATCH * BATCH;
        long start = System.nanoTime();
        try (NDManager manager = NDManager.newBaseManager(Device.cpu());
                AugmentedImages data = new AugmentedImages(manager, images, CROP, Resampling.Filter.BILINEAR,
                        Augmentation.Normalization.IMAGENET, threads)) {
            for (int pass = 0; pass < passes; pass++) {
                int[] order = Sampling.permutation(images.size(), pass);
                for (int from = 0; from < n; from += BATCH) {
                    long[] batch = new long[BATCH];
                    for (int i = 0; i < BATCH; i++) {
                        batch[i] = order[from + i];
                    }
                    try (NDManager step = manager.newSubManager()) {
                        NDArray[] arrays = data.batch(batch, 1, pass);
                        for (NDArray a : arrays) {
                            a.attach(step);
                        }
                    }
                }
            }
        }
        return (double) n * passes / ((System.nanoTime() - start) / 1e9);
    }

    private static double decodeImagesPerSecond(EncodedImages images) {
        long start = System.nanoTime();
        long sum = 0;
        for (int i = 0; i < images.size(); i++) {
            RgbImage image = ImageEncoding.JPEG.decode(images.encoded(i), SIDE, SIDE, "bench");
            sum += image.planes()[0];
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        return sum == Long.MIN_VALUE ? 0 : images.size() / seconds;
    }

    /** {images per second, versions} of one run of the reference. */
    private static String[] referenceImagesPerSecond(Path root, int workers) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(TrainStepBenchmark.PYTHON, SCRIPT.toString(), "--root", root.toString(), "--size",
                String.valueOf(CROP), "--batch", String.valueOf(BATCH), "--workers", String.valueOf(workers), "--passes", "2")
                .redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.MINUTES) || p.exitValue() != 0) {
            throw new IOException("the torchvision reference failed: " + output.strip());
        }
        String line = output.lines().filter(l -> l.startsWith("images_per_s=")).findFirst()
                .orElseThrow(() -> new IOException("the torchvision reference printed no images_per_s: " + output));
        String[] parts = line.split(" ", 2);
        return new String[] {parts[0].substring("images_per_s=".length()), parts.length > 1 ? parts[1] : ""};
    }

    private static double median(List<Double> values) {
        return Timing.median(values.stream().mapToDouble(Double::doubleValue).toArray());
    }
}
