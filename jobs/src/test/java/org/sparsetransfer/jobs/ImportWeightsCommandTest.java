package org.sparsetransfer.jobs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sparsetransfer.core.checkpoint.CheckpointCodec;
import org.sparsetransfer.core.checkpoint.StateDictImport;
import org.sparsetransfer.core.checkpoint.SyntheticCheckpoints;
import org.sparsetransfer.core.checkpoint.pytorch.TorchSaveWriter;
import org.sparsetransfer.core.checkpoint.pytorch.TorchTensor;
import org.sparsetransfer.core.model.Network;
import org.sparsetransfer.core.model.PrunablePolicy;
import org.sparsetransfer.core.model.ResNet;
import org.sparsetransfer.core.model.TorchThreads;
import org.sparsetransfer.core.model.Weights;
import org.sparsetransfer.core.prune.MagnitudePruner;
import org.sparsetransfer.core.prune.Mask;
import org.sparsetransfer.jobs.cli.SparseTransferCli;
import org.sparsetransfer.jobs.spark.SparkSessions;
import org.sparsetransfer.jobs.stages.CheckpointRecord;
import org.sparsetransfer.jobs.tables.CheckpointTable;
import org.sparsetransfer.jobs.tables.Warehouse;

/**
 * import-weights and export through the CLI: a ResNet-18 in the study's mask-wrapped layout (a
 * torch.save file written by the project's writer; PyTorchReferenceTest checks real PyTorch files)
 * is stored once under its label with its measured sparsity, and exports back to the same tensors;
 * a built-in label, a truncated file, another architecture's file, NaN weights, a missing storage
 * and a pickle calling os.system each get one error, exit 2, and store nothing.
 */
class ImportWeightsCommandTest {
    private static final Pattern PRINTED = Pattern.compile("id=(\\S+) method=(\\S+) sparsity=(\\S+)");

    @TempDir
    Path dir;

    @Test
    void importsOnceUnderItsLabelAndExportsTheSameTensors() throws Exception {
        ResNet r18 = ResNet.resnet18(32);
        Object[] made = TorchThreads.exclusive(() -> {
            try (Network net = Network.classifier(r18, 10, 5, Device.cpu())) {
                Weights w = net.weights();
                return new Object[] {w, Mask.dense(w, net.prunableTensors(new PrunablePolicy(true, false)))};
            }
        });
        Weights weights = (Weights) made[0];
        Mask mask = new MagnitudePruner(MagnitudePruner.Scope.GLOBAL).prune(weights, (Mask) made[1], 0.75);
        Path file = dir.resolve("resnet18-study.pth");
        try (OutputStream out = Files.newOutputStream(file)) {
            TorchSaveWriter.write(SyntheticCheckpoints.inLayout(r18, weights, mask, SyntheticCheckpoints.Layout.STUDY), out);
        }

        Path out = dir.resolve("warehouse");
        String[] args = {"import-weights", "--model", "resnet18", "--file", file.toString(), "--method", "mine_published",
                "--family", "magnitude", "--out", out.toString(), "--master", "local[2]"};
        String printed = InProcessCli.run(args);
        Matcher line = PRINTED.matcher(printed);
        assertTrue(line.find(), printed);
        assertEquals("mine_published", line.group(2));
        assertEquals(String.format(Locale.ROOT, "%.4f", mask.sparsity()), line.group(3), "measured over the masked tensors, 4 decimals");
        assertTrue(printed.contains("layout: a state_dict under 'model_state_dict' with model_config, 'module.' prefixes, mask-wrapped layers"),
                printed);
        assertTrue(printed.contains("matched 102 tensors to resnet18's parameters (torchvision keys)"), printed);
        String id = line.group(1);
        assertTrue(PRINTED.matcher(InProcessCli.run(args)).find(), "importing again succeeds");

        SparkSession spark = SparkSessions.create("test", "local[2]");
        try {
            CheckpointTable table = new CheckpointTable(spark, new Warehouse(out));
            assertEquals(1, table.table().count(), "importing the same file twice stores one checkpoint");
            CheckpointRecord record = table.get(id).orElseThrow();
            assertEquals("mine_published", record.method());
            assertEquals("magnitude", record.family());
            assertTrue(record.source().contains(file.getFileName().toString()) && record.source().contains(" bytes, modified "),
                    record.source());
            CheckpointCodec.Decoded decoded = record.decode();
            assertEquals(mask, decoded.mask(), "the file's masks are the checkpoint's");
            assertEquals(mask.apply(weights), decoded.weights(), "mask x weight, bit for bit");
        } finally {
            spark.stop();
        }

        // Export, as torch.save and as safetensors: the reference state dict, which imports to the same checkpoint.
        for (String name : List.of("export.pth", "export.safetensors")) {
            Path exported = dir.resolve(name);
            InProcessCli.run("export", "--checkpoint", id, "--file", exported.toString(), "--out", out.toString(), "--master", "local[2]");
            StateDictImport.Imported back = StateDictImport.read(r18, 10, exported, name);
            assertEquals(mask.apply(weights), back.weights(), name);
            assertEquals(mask, back.mask(), name);
        }
    }

    @Test
    void aBuiltInLabelOrABadFileStoresNothingAndExitsTwo() throws Exception {
        Path out = dir.resolve("warehouse");
        Path truncated = dir.resolve("truncated.pth");
        ResNet r18 = ResNet.resnet18(32);
        Weights weights = TorchThreads.exclusive(() -> {
            try (Network net = Network.classifier(r18, 10, 5, Device.cpu())) {
                return net.weights();
            }
        });
        java.io.ByteArrayOutputStream whole = new java.io.ByteArrayOutputStream();
        TorchSaveWriter.write(SyntheticCheckpoints.inLayout(r18, weights, Mask.dense(weights, java.util.Set.of()), SyntheticCheckpoints.Layout.PLAIN), whole);
        Files.write(truncated, java.util.Arrays.copyOf(whole.toByteArray(), whole.size() / 3));
        Files.write(dir.resolve("whole.pth"), whole.toByteArray());

        assertBadInput("a label other than a built-in method's key", "import-weights", "--model", "resnet18", "--file",
                dir.resolve("whole.pth").toString(), "--method", "acdc", "--out", out.toString(), "--master", "local[2]");
        assertBadInput("damaged or truncated zip archive", "import-weights", "--model", "resnet18", "--file", truncated.toString(),
                "--method", "r18_published", "--out", out.toString(), "--master", "local[2]");
        assertBadInput("does not fit resnet50", "import-weights", "--model", "resnet50", "--file", dir.resolve("whole.pth").toString(),
                "--method", "r18_published", "--out", out.toString(), "--master", "local[2]");
        // NaN weights, a missing storage and a pickle that calls os.system (its marker never appears).
        Map<String, Object> withNan = new java.util.LinkedHashMap<>(SyntheticCheckpoints.inLayout(r18, weights, Mask.dense(weights,
                java.util.Set.of()), SyntheticCheckpoints.Layout.PLAIN));
        TorchTensor conv = (TorchTensor) withNan.get("layer1.0.conv1.weight");
        float[] v = conv.toFloats();
        v[3] = Float.NaN;
        withNan.put("layer1.0.conv1.weight", TorchTensor.ofFloats(conv.shape(), v));
        try (OutputStream stream = Files.newOutputStream(dir.resolve("nan.pth"))) {
            TorchSaveWriter.write(withNan, stream);
        }
        assertBadInput("hold NaN or infinite values", "import-weights", "--model", "resnet18", "--file", dir.resolve("nan.pth").toString(),
                "--method", "r18_published", "--out", out.toString(), "--master", "local[2]");
        copyZipWithout(dir.resolve("whole.pth"), dir.resolve("missing.pth"), "archive/data/3");
        assertBadInput("storage 3", "import-weights", "--model", "resnet18", "--file", dir.resolve("missing.pth").toString(),
                "--method", "r18_published", "--out", out.toString(), "--master", "local[2]");
        Path marker = dir.resolve("evil-ran");
        try (java.util.zip.ZipOutputStream zip = new java.util.zip.ZipOutputStream(Files.newOutputStream(dir.resolve("evil.pth")))) {
            zip.putNextEntry(new java.util.zip.ZipEntry("archive/data.pkl"));
            String command = "touch " + marker;
            java.io.ByteArrayOutputStream pickle = new java.io.ByteArrayOutputStream();
            pickle.writeBytes("\u0080\u0002cposix\nsystem\nX".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
            pickle.writeBytes(java.nio.ByteBuffer.allocate(4).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt(command.length()).array());
            pickle.writeBytes(command.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            pickle.writeBytes("\u0085R.".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
            zip.write(pickle.toByteArray());
            zip.putNextEntry(new java.util.zip.ZipEntry("archive/version"));
            zip.write("3\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        }
        assertBadInput("refers to the Python global posix.system", "import-weights", "--model", "resnet18", "--file",
                dir.resolve("evil.pth").toString(), "--method", "r18_published", "--out", out.toString(), "--master", "local[2]");
        assertFalse(Files.exists(marker), "the pickle's command never ran");
        assertFalse(Files.exists(out.resolve("checkpoints")), "nothing stored");
        assertBadInput("is not in", "export", "--checkpoint", "imported-resnet18-0000", "--file", dir.resolve("x.pth").toString(),
                "--out", out.toString(), "--master", "local[2]");
        assertFalse(Files.exists(dir.resolve("x.pth")));
    }

    /** A copy of a zip archive without one entry. */
    private static void copyZipWithout(Path from, Path to, String left) throws java.io.IOException {
        try (java.util.zip.ZipInputStream in = new java.util.zip.ZipInputStream(Files.newInputStream(from));
                java.util.zip.ZipOutputStream out = new java.util.zip.ZipOutputStream(Files.newOutputStream(to))) {
            for (java.util.zip.ZipEntry e; (e = in.getNextEntry()) != null; ) {
                if (!e.getName().equals(left)) {
                    out.putNextEntry(new java.util.zip.ZipEntry(e.getName()));
                    in.transferTo(out);
                }
            }
        }
    }

    private static void assertBadInput(String part, String... args) {
        StringWriter err = new StringWriter();
        int code = SparseTransferCli.execute(new SparseTransferCli(), new PrintWriter(err, true), args);
        assertEquals(SparseTransferCli.EXIT_BAD_INPUT, code, err.toString());
        assertTrue(err.toString().contains(part), err.toString());
    }
}
