package org.sparsetransfer.core.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.sparsetransfer.core.InvalidInputException;
import org.sparsetransfer.core.checkpoint.pytorch.PyTorchFiles;
import org.sparsetransfer.core.checkpoint.pytorch.TorchSaveWriter;
import org.sparsetransfer.core.checkpoint.pytorch.TorchTensor;
import org.sparsetransfer.core.config.DataSource;
import org.sparsetransfer.core.config.ExperimentConfig;
import org.sparsetransfer.core.experiment.FeatureCache;
import org.sparsetransfer.core.experiment.TransferExperiment;
import org.sparsetransfer.core.model.Architecture;
import org.sparsetransfer.core.model.Network;
import org.sparsetransfer.core.model.TorchThreads;
import org.sparsetransfer.core.model.Weights;
import org.sparsetransfer.core.task.TaskRegistry;
import org.sparsetransfer.core.train.LocalSgd;
import org.sparsetransfer.core.train.MemoryStateStore;
import org.sparsetransfer.core.train.TrainingLoop;
import org.sparsetransfer.core.transfer.Regime;
import org.sparsetransfer.core.vision.EncodedImages;
import org.sparsetransfer.core.vision.ImageEncoding;
import org.sparsetransfer.core.vision.SyntheticImages;

/**
 * Import and export against real PyTorch (Debian's python3-torch 1.13 and torchvision 0.14, see
 * {@link PyTorchReference}): checkpoints PyTorch saved in every layout published checkpoints use
 * (make_checkpoints.py) give PyTorch's logits here, exports load back into PyTorch with
 * {@code weights_only=True} and {@code strict=True} and equal the originals, and every kind of bad
 * file is refused with one clear error.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PyTorchReferenceTest {
    private static final List<String> MODELS = List.of("resnet18", "resnet50", "mobilenet_v1");
    private static final List<String> LAYOUTS = List.of("plain", "wrapped", "study", "prune");
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path out;
    private JsonNode manifest;
    private final Map<String, StateDictImport.Imported> plain = new LinkedHashMap<>();

    @BeforeAll
    void savedByPyTorch() throws Exception {
        PyTorchReference.script("make_checkpoints.py", out.toString());
        manifest = JSON.readTree(out.resolve("manifest.json").toFile());
    }

    private static Architecture model(String name) {
        return Architecture.byName(name, 224);
    }

    private StateDictImport.Imported plain(String arch) {
        return plain.computeIfAbsent(arch, a -> StateDictImport.read(model(a), null, out.resolve(a).resolve("plain.pth"), a + " plain"));
    }

    static Stream<Arguments> layouts() {
        return MODELS.stream().flatMap(m -> LAYOUTS.stream().map(l -> Arguments.of(m, l)));
    }

    /** Every layout of a model imports to the same weights and mask; PyTorch's count of zeros is the mask's. */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("layouts")
    void everyLayoutImportsToTheSameWeightsAndMask(String arch, String layout) {
        StateDictImport.Imported imported = StateDictImport.read(model(arch), null, out.resolve(arch).resolve(layout + ".pth"),
                arch + " " + layout);
        StateDictImport.Imported reference = plain(arch);
        assertEquals(1000, imported.numClasses());
        assertEquals(reference.weights(), imported.weights(), "the masked weights, bit for bit");
        JsonNode m = manifest.path("models").path(arch);
        assertEquals(m.path("prunable").asLong(), imported.mask().size(), "the prunable tensors are PyTorch's");
        assertEquals(m.path("zeros").asLong(), imported.mask().prunedCount(), "measured sparsity = PyTorch's count of zeros");
        assertTrue(imported.mask().holds(imported.weights()));
        if (!layout.equals("plain")) {
            assertEquals(reference.mask(), imported.mask(), "the file's own masks are the zeros of the masked weights");
        }
        assertTrue(imported.report().layout().contains(switch (layout) {
            case "plain" -> "a plain state_dict";
            case "wrapped" -> "under 'state_dict', 'module.' prefixes";
            case "study" -> "under 'model_state_dict' with model_config, 'module.' prefixes, mask-wrapped layers";
            case "prune" -> "torch.nn.utils.prune masks";
            default -> throw new IllegalArgumentException(layout);
        }), imported.report().layout());
    }

    /** The project's forward pass in evaluation mode gives PyTorch's logits (relative error at most 1e-4 per batch). */
    @ParameterizedTest(name = "{0}")
    @MethodSource("modelNames")
    void theForwardPassMatchesPyTorchs(String arch) throws Exception {
        StateDictImport.Imported imported = StateDictImport.read(model(arch), null, out.resolve(arch).resolve("study.pth"), arch);
        float[] input = floats(out.resolve(arch).resolve("input.f32"));
        float[] expected = floats(out.resolve(arch).resolve("logits.f32"));
        float[] actual = TorchThreads.exclusive(() -> {
            try (Network net = Network.classifier(model(arch), 1000, 0, Device.cpu()); NDManager manager = NDManager.newBaseManager()) {
                net.load(imported.weights(), name -> true);
                NDArray x = manager.create(input, new Shape(2, 3, 224, 224));
                return net.forward(x, false).toFloatArray();
            }
        });
        assertEquals(expected.length, actual.length);
        double diff = 0;
        double norm = 0;
        for (int i = 0; i < expected.length; i++) {
            diff += (actual[i] - expected[i]) * (double) (actual[i] - expected[i]);
            norm += expected[i] * (double) expected[i];
        }
        assertTrue(norm > 0);
        System.out.printf("%s: |logits - PyTorch's| / |PyTorch's| = %.2e%n", arch, Math.sqrt(diff / norm));
        assertTrue(Math.sqrt(diff) <= 1e-4 * Math.sqrt(norm), arch + ": |diff| " + Math.sqrt(diff) + " vs |logits| " + Math.sqrt(norm));
    }

    static Stream<String> modelNames() {
        return MODELS.stream();
    }

    /** Exports load into PyTorch's model with weights_only=True and strict=True, every tensor equal to the original. */
    @ParameterizedTest(name = "{0} as {1}")
    @MethodSource("exports")
    void exportsLoadIntoPyTorchAndEqualTheOriginals(String arch, String extension) throws Exception {
        StateDictImport.Imported imported = plain(arch);
        Path file = out.resolve(arch + "-export" + extension);
        PyTorchFiles.writeStateDict(StateDictExport.toReference(model(arch), imported.weights(), imported.mask()), file);
        String printed = PyTorchReference.script("check_export.py", arch, out.resolve(arch).resolve("plain.pth").toString(),
                file.toString());
        JsonNode result = JSON.readTree(printed.lines().filter(l -> l.startsWith("{")).reduce((a, b) -> b).orElseThrow());
        assertEquals(0, result.path("mismatched").size(), printed);
        assertTrue(result.path("strict_load").asBoolean(), printed);
        // And it imports again to the same weights and mask.
        StateDictImport.Imported again = StateDictImport.read(model(arch), null, file, "export");
        assertEquals(imported.weights(), again.weights());
        assertEquals(imported.mask(), again.mask());
    }

    static Stream<Arguments> exports() {
        return MODELS.stream().flatMap(m -> Stream.of(Arguments.of(m, ".pth"), Arguments.of(m, ".safetensors")));
    }

    /** Every dtype the models use, views with offsets and strides, and views that share a storage, read as PyTorch has them. */
    @Test
    void dtypesOffsetsAndStridesAreRead() throws Exception {
        @SuppressWarnings("unchecked")
        Map<String, Object> read = (Map<String, Object>) PyTorchFiles.read(out.resolve("dtypes.pth"), "dtypes.pth");
        JsonNode expected = JSON.readTree(out.resolve("dtypes_expected.json").toFile());
        assertEquals(expected.size(), read.size());
        for (Iterator<Map.Entry<String, JsonNode>> it = expected.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            TorchTensor t = (TorchTensor) read.get(e.getKey());
            long[] shape = new long[e.getValue().path("shape").size()];
            for (int i = 0; i < shape.length; i++) {
                shape[i] = e.getValue().path("shape").get(i).asLong();
            }
            assertArrayEquals(shape, t.shape(), e.getKey());
            float[] values = t.toFloats();
            JsonNode want = e.getValue().path("values");
            assertEquals(want.size(), values.length, e.getKey());
            for (int i = 0; i < values.length; i++) {
                assertEquals((float) want.get(i).asDouble(), values[i], e.getKey() + "[" + i + "]");
            }
        }
    }

    /** A pickle that calls os.system is refused at its global, naming it, and the command never runs. */
    @Test
    void aPickleWithAGlobalOutsideTheAllowlistIsRefusedAndNothingRuns() {
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> PyTorchFiles.read(out.resolve("evil.pth"), "evil.pth"));
        assertTrue(e.getMessage().contains("refers to the Python global posix.system"), e.getMessage());
        assertFalse(Files.exists(out.resolve("evil-ran")));
        assertThrows(InvalidInputException.class, () -> StateDictImport.read(model("resnet18"), null, out.resolve("evil.pth"), "evil"));
        assertFalse(Files.exists(out.resolve("evil-ran")));
    }

    @Test
    void damagedFilesAndOtherFormatsGetOneClearErrorEach() throws Exception {
        Architecture r18 = model("resnet18");
        assertMessage("saved in PyTorch's legacy format", () -> StateDictImport.read(r18, null, out.resolve("legacy.pth"), "legacy.pth"));
        assertMessage("storage 3", () -> StateDictImport.read(r18, null, out.resolve("missing_storage.pth"), "missing.pth"));
        assertMessage("has no entry", () -> StateDictImport.read(r18, null, out.resolve("missing_storage.pth"), "missing.pth"));

        byte[] whole = Files.readAllBytes(out.resolve("resnet18").resolve("plain.pth"));
        Path truncated = out.resolve("truncated.pth");
        Files.write(truncated, Arrays.copyOf(whole, whole.length / 2));
        assertMessage("damaged or truncated zip archive", () -> StateDictImport.read(r18, null, truncated, "truncated.pth"));

        Path text = out.resolve("notes.pth");
        Files.writeString(text, "these are not weights");
        assertMessage("neither a torch.save archive (a zip) nor a safetensors file", () -> StateDictImport.read(r18, null, text, "notes.pth"));

        // NaN weights: a copy of the plain state dict with one NaN, written by the project's torch.save writer.
        @SuppressWarnings("unchecked")
        Map<String, Object> sd = new LinkedHashMap<>((Map<String, Object>) PyTorchFiles.read(out.resolve("resnet18").resolve("plain.pth"), "plain"));
        TorchTensor conv = (TorchTensor) sd.get("layer3.0.conv2.weight");
        float[] v = conv.toFloats();
        v[17] = Float.NaN;
        sd.put("layer3.0.conv2.weight", TorchTensor.ofFloats(conv.shape(), v));
        Path nan = out.resolve("nan.pth");
        try (var stream = Files.newOutputStream(nan)) {
            TorchSaveWriter.write(sd, stream);
        }
        assertMessage("tensors [layer3.0.conv2.weight] hold NaN or infinite values", () -> StateDictImport.read(r18, null, nan, "nan.pth"));

        // Another architecture's file: the keys that do not fit are listed, and the model they fit is named.
        assertMessage("does not fit resnet50", () -> StateDictImport.read(model("resnet50"), null,
                out.resolve("resnet18").resolve("plain.pth"), "r18.pth"));
        assertMessage("its keys are those of mobilenet_v1: import it with --model mobilenet_v1",
                () -> StateDictImport.read(r18, null, out.resolve("mobilenet_v1").resolve("plain.pth"), "mobilenet.pth"));
    }

    /** A sparse import's mask holds exactly through full finetuning (the upstream mask is re-applied after every step). */
    @Test
    void theMaskOfAnImportedCheckpointHoldsThroughFullFinetuning() throws Exception {
        StateDictImport.Imported imported = plain("resnet18");
        ExperimentConfig config = new ExperimentConfig();
        config.model = "resnet18";
        config.data.source = DataSource.IMAGES;
        config.data.images.imageSize = 32;
        config.data.images.resize = 36;
        config.transfer.batchSize = 8;
        config.transfer.full.steps = 6;
        config.transfer.full.lr = 0.05f;
        int n = 32;
        int[] labels = new int[n];
        byte[][] images = new byte[n][];
        for (int i = 0; i < n; i++) {
            labels[i] = i % 4;
            images[i] = ImageEncoding.PNG.encode(SyntheticImages.image(labels[i], 36, 36, new SplittableRandom(i)));
        }
        EncodedImages split = EncodedImages.onHeap("task", 36, 36, 4, labels, ImageEncoding.PNG, images);
        TaskRegistry.Splits task = new TaskRegistry.Splits(split, null, split);
        MemoryStateStore store = new MemoryStateStore();
        TransferExperiment.Outcome outcome;
        try (FeatureCache none = FeatureCache.none()) {
            outcome = new TransferExperiment(config, Device.cpu()).run(imported.weights(), imported.mask(), "task", task, Regime.FULL, 0,
                    none, new LocalSgd.StatePolicy(store, "run", 3), TrainingLoop.Progress.SILENT);
        }
        assertEquals(null, outcome.error());
        Weights tuned = store.last().weights();
        String conv = "layer2.0.conv1.weight";
        String name = model("resnet18").referenceKeys(1000).entrySet().stream().filter(e -> e.getValue().equals(conv))
                .findFirst().orElseThrow().getKey();
        assertTrue(imported.mask().covers(name) && imported.mask().sparsity() > 0.5);
        assertFalse(Arrays.equals(imported.weights().get(name).values(), tuned.get(name).values()), "the sparse convolutions trained");
        assertTrue(imported.mask().restrictTo(tuned.tensors().keySet()).holds(tuned),
                "every pruned weight is still exactly zero after full finetuning");
    }

    private static void assertMessage(String part, org.junit.jupiter.api.function.Executable call) {
        InvalidInputException e = assertThrows(InvalidInputException.class, call);
        assertTrue(e.getMessage().contains(part), e.getMessage());
    }

    private static float[] floats(Path file) throws Exception {
        byte[] bytes = Files.readAllBytes(file);
        float[] out = new float[bytes.length / 4];
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
        return out;
    }
}
