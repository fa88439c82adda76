package org.sparsetransfer.jobs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import org.sparsetransfer.core.checkpoint.CheckpointCodec;
import org.sparsetransfer.core.config.ConfigLoader;
import org.sparsetransfer.core.config.ExperimentConfig;
import org.sparsetransfer.core.model.ResNet;
import org.sparsetransfer.core.model.Tensor;
import org.sparsetransfer.core.model.Weights;
import org.sparsetransfer.jobs.spark.SparkSessions;
import org.sparsetransfer.jobs.stages.CheckpointRecord;
import org.sparsetransfer.jobs.deploy.LoopbackHdfs;
import org.sparsetransfer.jobs.storage.HadoopFileSource;
import org.sparsetransfer.jobs.storage.Location;
import org.sparsetransfer.jobs.storage.Storage;
import org.sparsetransfer.jobs.tables.Warehouse;

/**
 * The image path end to end through the CLI, every file on a real HDFS (deploy/hdfs on loopback):
 * generated images in the real formats (a PNG ImageFolder upstream, a CIFAR-10-format task)
 * written there by synth-images, the config read from there, ingested and decoded on executors,
 * ResNet-18 at 32x32 trained with augmentation, pruned (one-shot, GMP*) and transferred (linear,
 * full) into a warehouse there; then the same experiment from an imported (torchvision-format)
 * dense model, its weights file on HDFS too, with IMP in a mode that does not rewind weights.
 */
@Tag("slow")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ImagePipelineTest {
    @TempDir
    static Path data;

    private LoopbackHdfs hdfs;
    private final Storage storage = new Storage(new Configuration());
    private String out;
    private Location config;
    private String output;

    @BeforeAll
    void runPipeline() throws Exception {
        hdfs = LoopbackHdfs.start(data.resolve("hdfs"));
        out = hdfs.uri() + "/warehouse";
        String dir = hdfs.uri() + "/data/synthetic";
        InProcessCli.run("synth-images", "--out", dir);
        // A file no reader decodes among the upstream test images: ingest skips and reports it (40 decodable remain).
        Location brokenImage = Location.parse(dir, "test").resolve("upstream/val/class_01/broken.png");
        storage.writeString(brokenImage, "not a PNG: the transfer was cut off");
        config = Location.parse(dir, "test").resolve("tiny-images.yaml");
        output = InProcessCli.run("pipeline", "--config", config.toString(), "--out", out, "--master", "local[2]");
    }

    /** The checkpoint table, read in a session of its own (a CLI command stops the one it used). */
    private List<CheckpointRecord> checkpoints() {
        return SparkSessions.create("test", "local[2]").read().format("delta").load(Warehouse.parse(out).checkpoints()).collectAsList()
                .stream().map(CheckpointRecord::fromRow).toList();
    }

    @AfterAll
    void stop() throws Exception {
        TinyPipelineTest.stopDefaultSession();
        if (hdfs != null) {
            hdfs.close();
        }
    }

    @Test
    @Order(1)
    void resnet18OnGeneratedImagesRunsEveryStage() throws Exception {
        ExperimentConfig c = ConfigLoader.load(new HadoopFileSource(storage), config.toString());
        assertTrue(c.data.images.upstream.startsWith(hdfs.uri() + "/data/synthetic/"), "the config synth-images wrote reads from HDFS");

        SparkSession spark = SparkSessions.create("test", "local[2]");
        Warehouse warehouse = Warehouse.parse(out);
        Map<String, Long> counts = new TreeMap<>();
        for (Row r : spark.read().format("delta").load(warehouse.datasets())
                .selectExpr("dataset", "split", "height", "width", "length(pixels) AS bytes", "encoding").collectAsList()) {
            counts.merge(r.getString(0) + "/" + r.getString(1), 1L, Long::sum);
            assertEquals(36, r.getInt(2));
            assertEquals(36, r.getInt(3));
            assertEquals("jpeg", r.getString(5), "image datasets are stored as JPEG by default");
            assertTrue(r.getInt(4) < 3 * 36 * 36, "an encoded image is smaller than its " + 3 * 36 * 36 + " raw bytes: " + r.getInt(4));
        }
        // Each stored image decodes to RGB at data.images.resize.
        byte[] one = (byte[]) spark.read().format("delta").load(warehouse.datasets()).select("pixels").first().get(0);
        org.sparsetransfer.core.vision.RgbImage stored = org.sparsetransfer.core.vision.ImageEncoding.JPEG.decode(one, 36, 36, "a stored image");
        assertEquals(3 * 36 * 36, stored.planes().length);
        assertEquals(Map.of("upstream/train", 128L, "upstream/val", 32L, "upstream/test", 40L, "cifar10/train", 200L,
                "cifar10/test", 100L), counts);
        List<Row> skipped = spark.read().format("delta").load(warehouse.skippedImages()).collectAsList();
        assertEquals(1, skipped.size(), "the one undecodable file is listed");
        assertEquals(List.of("upstream", "test"), List.of(skipped.get(0).getString(0), skipped.get(0).getString(1)));
        assertTrue(skipped.get(0).getString(2).endsWith("/upstream/val/class_01/broken.png"), skipped.get(0).getString(2));
        assertTrue(skipped.get(0).getString(3).startsWith("Cannot decode image"), skipped.get(0).getString(3));
        assertTrue(output.contains("upstream: skipped 1 image files that cannot be decoded or are too small"), output);

        List<CheckpointRecord> records = checkpoints();
        assertEquals(List.of("dense", "gmp_star", "oneshot"), records.stream().map(CheckpointRecord::method).sorted().toList());
        for (CheckpointRecord record : records) {
            CheckpointCodec.Decoded decoded = record.decode();
            assertTrue(record.upstreamTop1() > 60, record.id() + " upstream top-1 " + record.upstreamTop1() + "% (chance is 25%)");
            assertEquals(11_178_564 + 9_600, record.totalParams(),
                    "resnet18's learnable parameters with a 4-class head, and BatchNorm's running means and variances");
            Tensor first = decoded.weights().tensors().values().stream().filter(t -> t.shape().length == 4 && t.shape()[1] == 3).findFirst()
                    .orElseThrow();
            assertArrayEquals(new long[] {64, 3, 7, 7}, first.shape(), "torchvision's stem");
            assertTrue(decoded.weights().tensors().values().stream().anyMatch(t -> java.util.Arrays.equals(t.shape(), new long[] {4, 512})),
                    "a 4-class head on 512 features");
            if (record.method().equals("dense")) {
                assertNull(decoded.mask());
                continue;
            }
            assertEquals(0.8, decoded.mask().sparsity(), 0.001, record.id());
            assertEquals(19, decoded.mask().tensorNames().size(), "first conv and head are not pruned");
            for (String name : decoded.mask().tensorNames()) {
                boolean[] kept = decoded.mask().bits(name);
                float[] values = decoded.weights().get(name).values();
                for (int i = 0; i < kept.length; i++) {
                    assertTrue(kept[i] || values[i] == 0f, record.id() + " " + name + "[" + i + "] = " + values[i]);
                }
            }
        }

        // The dense run learned: its last epoch's mean training loss is far below an untrained 4-class model's (ln 4),
        // with a margin no difference of floating point between machines crosses (held-out accuracy is checked above).
        Matcher epochs = Pattern.compile("\\[upstream[^\\]]*\\] epoch (\\d+)/5 .*? loss ([0-9.]+)").matcher(output);
        double lastLoss = Double.NaN;
        while (epochs.find()) {
            lastLoss = Double.parseDouble(epochs.group(2));
        }
        assertTrue(lastLoss < 0.5 * Math.log(4), "dense training loss in the last epoch " + lastLoss + "\n" + output);

        List<String> csv = storage.readString(warehouse.root().resolve("report/transfer_table.csv")).lines().toList();
        assertEquals(1 + 3 * c.transfer.regimes.size(), csv.size(), String.join("\n", csv));
        for (String line : csv.subList(1, csv.size())) {
            String[] f = line.split(",", -1);
            assertEquals("cifar10", f[3]);
            assertEquals("top1", f[4]);
            assertTrue(Double.parseDouble(f[5]) > 30, "transfer accuracy above chance (10%): " + line);
        }
    }

    @Test
    @Order(2)
    void anImportedDenseModelReplacesDenseTraining() throws Exception {
        CheckpointRecord trained = checkpoints().stream().filter(r -> r.method().equals("dense")).findFirst().orElseThrow();
        Weights weights = trained.decode().weights();
        Path local = data.resolve("dense-resnet18.safetensors");
        StateDicts.write(weights, ResNet.resnet18(32).referenceKeys(4), local, (name, values) -> values);
        Location file = Location.parse(hdfs.uri() + "/weights/dense-resnet18.safetensors", "test");
        storage.upload(local, file);
        InProcessCli.run("import-weights", "--model", "resnet18", "--side", "32", "--classes", "4", "--file", file.toString(),
                "--method", "dense_torchvision", "--out", out, "--master", "local[2]");
        String importedId = checkpoints().stream().filter(r -> r.method().equals("dense_torchvision")).findFirst().orElseThrow().id();

        Location pretrained = config.parent().resolve("pretrained.yaml");
        storage.writeString(pretrained, storage.readString(config)
                .replace("upstream:\n", "upstream:\n  pretrained: " + importedId + "\n")
                .replace("methods: [dense, oneshot, gmp_star]", "methods: [dense, oneshot, imp]")
                // IMP without weight rewinding: a pretrained model has no dense run to rewind into.
                .replace("pruning:\n", "pruning:\n  imp: {mode: lr_rewind, rewind_step: 10, retrain_steps: 4, prune_fraction: 0.5}\n"));
        String run = InProcessCli.run("pipeline", "--config", pretrained.toString(), "--out", out, "--master", "local[2]");
        assertTrue(run.contains("ingest] dataset upstream is ingested"), "the datasets are reused");

        List<CheckpointRecord> all = checkpoints();
        CheckpointRecord root = all.stream().filter(r -> r.method().equals("dense") && importedId.equals(r.parentId())).findFirst()
                .orElseThrow(() -> new AssertionError("no dense checkpoint from " + importedId + " in " + all));
        assertEquals(0, root.trainSteps(), "scored, not trained");
        assertEquals(trained.upstreamTop1(), root.upstreamTop1(), 1e-9, "the same weights score the same");
        assertEquals(weights, root.decode().weights(), "the imported weights, every tensor (running statistics too)");
        CheckpointRecord pruned = all.stream().filter(r -> r.method().equals("oneshot") && root.id().equals(r.parentId())).findFirst()
                .orElseThrow(() -> new AssertionError("no oneshot checkpoint pruned from " + root.id()));
        assertEquals(0.8, pruned.actualSparsity(), 0.001);
        CheckpointRecord imp = all.stream().filter(r -> r.method().equals("imp") && root.id().equals(r.parentId())).findFirst()
                .orElseThrow(() -> new AssertionError("no imp checkpoint pruned from " + root.id()));
        assertEquals(0.8, imp.actualSparsity(), 0.001);
        assertTrue(all.stream().noneMatch(r -> r.stage().equals("rewind") && root.id().equals(r.parentId())),
                "lr_rewind needs no rewind checkpoint, so none is trained");
        long transferred = SparkSessions.create("test", "local[2]").read().format("delta").load(Warehouse.parse(out).transferResults())
                .where(org.apache.spark.sql.functions.col("checkpoint_id").isin(root.id(), pruned.id())).count();
        assertEquals(4, transferred, "2 checkpoints x cifar10 x 2 regimes x 1 seed");
    }
}
