package org.sparsetransfer.jobs.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.Callable;
import org.sparsetransfer.core.InvalidInputException;
import org.sparsetransfer.core.io.FileSink;
import org.sparsetransfer.core.vision.SyntheticImages;
import org.sparsetransfer.jobs.storage.Location;
import org.sparsetransfer.jobs.storage.Storage;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Writes a small generated image experiment: the datasets in their real formats (and for
 * paper-smoke, checkpoints in the layouts published ones use) and a config that reads them (no
 * Spark).
 */
@Command(name = "synth-images", mixinStandardHelpOptions = true,
        description = "Write a generated experiment. tiny-images (the default): a PNG ImageFolder upstream of 4 classes under "
                + "OUT/upstream, a CIFAR-10-format task under OUT/transfer/cifar10 and OUT/tiny-images.yaml, a ResNet-18 "
                + "experiment on them. paper-smoke: conf/paper-smoke.yaml's shape, the study's transfer-only experiment: two "
                + "tasks (CIFAR-10 format, DTD's train/test folders) under OUT/transfer, ResNet-18 checkpoints in the published "
                + "layouts (plain, the study's mask-wrapped, torch.nn.utils.prune, safetensors) under OUT/checkpoints, and "
                + "OUT/paper-smoke.yaml.")
public final class SynthImagesCommand implements Callable<Integer> {
    /** The generated experiments, each a config template (with @DIR@ for --out) in the application. */
    enum Experiment {
        TINY_IMAGES("tiny-images"),
        PAPER_SMOKE("paper-smoke");

        final String key;

        Experiment(String key) {
            this.key = key;
        }

        String config() {
            return key + ".yaml";
        }

        static Experiment parse(String key) {
            return java.util.Arrays.stream(values()).filter(e -> e.key.equals(key)).findFirst().orElseThrow(() -> new InvalidInputException(
                    "--experiment " + key + ": expected one of " + java.util.Arrays.stream(values()).map(e -> e.key).toList()));
        }
    }

    @Option(names = "--experiment", paramLabel = "NAME", defaultValue = "tiny-images",
            description = "tiny-images or paper-smoke. Default: ${DEFAULT-VALUE}.")
    String experiment;

    @Option(names = "--out", required = true, paramLabel = "DIR",
            description = "Directory to create (must not exist or be empty): a local path, or a URI such as hdfs://namenode:8020/data/synth.")
    String out;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "0", description = "Seed of the generated pixels. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        Location dir = Location.parse(out, "--out");
        // Hadoop's settings as a Spark application would have them (spark.hadoop.* system properties included); no Spark starts.
        Storage storage = Storage.forSparkConf(new org.apache.spark.SparkConf());
        storage.checkWritableDirectory(dir, "--out");
        if (storage.exists(dir) && (!storage.isDirectory(dir) || !storage.list(dir).isEmpty())) {
            throw new InvalidInputException("--out " + dir + " exists and is not an empty directory; give a new directory");
        }
        try {
            storage.mkdirs(dir);
        } catch (IOException e) {
            throw Storage.failure("cannot create --out", dir, e);
        }
        Experiment which = Experiment.parse(experiment);
        FileSink sink = location -> storage.create(Location.parse(location, "--out"));
        String wrote = switch (which) {
            case TINY_IMAGES -> {
                SyntheticImages.imageFolder(sink, dir.resolve("upstream").toString(), 4, 40, 10, 40, 36, seed);
                SyntheticImages.cifar10(sink, dir.resolve("transfer/cifar10").toString(), 40, 100, seed + 1);
                yield dir + "/upstream (160 train + 40 val PNGs, 4 classes), " + dir + "/transfer/cifar10 (200 train + 100 test CIFAR-10 records)";
            }
            case PAPER_SMOKE -> {
                SyntheticImages.cifar10(sink, dir.resolve("transfer/cifar10").toString(), 24, 60, seed + 1);
                SyntheticImages.trainTestFolders(sink, dir.resolve("transfer/dtd").toString(), 47, 2, 1, 36, 36, seed + 2);
                List<String> files = PaperSmokeCheckpoints.write(sink, dir.resolve("checkpoints").toString(), seed);
                yield dir + "/transfer/cifar10 (120 train + 60 test CIFAR-10 records), " + dir + "/transfer/dtd (94 train + 47 test PNGs, "
                        + "47 classes), " + dir + "/checkpoints (" + String.join(", ", files) + ")";
            }
        };
        String template;
        try (InputStream in = SynthImagesCommand.class.getResourceAsStream("/sparse-transfer/" + which.config())) {
            template = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        Location config = dir.resolve(which.config());
        storage.writeString(config, template.replace("@DIR@", dir.toString()));
        PrintWriter w = spec.commandLine().getOut();
        w.println("wrote " + wrote + " and " + config);
        w.println("run it with: bin/sparse-transfer pipeline --config " + config + " --out OUT");
        w.flush();
        return 0;
    }
}
