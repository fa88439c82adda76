package org.sparsetransfer.jobs.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
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

/** Writes a small generated image experiment: the datasets in their real formats and a config that reads them (no Spark). */
@Command(name = "synth-images", mixinStandardHelpOptions = true,
        description = "Write generated images in the real formats (a PNG ImageFolder upstream of 4 classes under OUT/upstream, "
                + "a CIFAR-10-format task under OUT/transfer/cifar10) and OUT/tiny-images.yaml, a ResNet-18 experiment on them.")
public final class SynthImagesCommand implements Callable<Integer> {
    static final String TEMPLATE = "/sparse-transfer/tiny-images.yaml";
    static final String CONFIG = "tiny-images.yaml";

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
        FileSink sink = location -> storage.create(Location.parse(location, "--out"));
        SyntheticImages.imageFolder(sink, dir.resolve("upstream").toString(), 4, 40, 10, 40, 36, seed);
        SyntheticImages.cifar10(sink, dir.resolve("transfer/cifar10").toString(), 40, 100, seed + 1);
        String template;
        try (InputStream in = SynthImagesCommand.class.getResourceAsStream(TEMPLATE)) {
            template = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        Location config = dir.resolve(CONFIG);
        storage.writeString(config, template.replace("@DIR@", dir.toString()));
        PrintWriter w = spec.commandLine().getOut();
        w.println("wrote " + dir + "/upstream (160 train + 40 val PNGs, 4 classes), " + dir
                + "/transfer/cifar10 (200 train + 100 test CIFAR-10 records) and " + config);
        w.println("run it with: bin/sparse-transfer pipeline --config " + config + " --out OUT");
        w.flush();
        return 0;
    }
}
