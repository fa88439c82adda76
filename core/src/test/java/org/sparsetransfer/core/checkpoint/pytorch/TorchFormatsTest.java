package org.sparsetransfer.core.checkpoint.pytorch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sparsetransfer.core.InvalidInputException;

/**
 * The formats' mechanics without PyTorch (PyTorchReferenceTest reads and writes against it):
 * views with offsets and strides, half precision, the pickle allowlist at each opcode that names
 * or builds an object, and both writers read back by the readers.
 */
class TorchFormatsTest {
    @TempDir
    Path dir;

    @Test
    void aViewWithAnOffsetAndStridesIsCopiedOutInRowMajorOrder() {
        byte[] storage = TorchTensor.ofFloats(new long[] {16}, new float[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}).data();
        // A 2x3 view at offset 5 with strides (4, 1): rows 1-2, columns 1-3 of a 4x4 matrix; then its transpose.
        assertArrayEquals(new float[] {5, 6, 7, 9, 10, 11},
                TorchTensor.view(TorchDtype.FLOAT32, storage, 5, new long[] {2, 3}, new long[] {4, 1}, "v").toFloats());
        assertArrayEquals(new float[] {5, 9, 6, 10, 7, 11},
                TorchTensor.view(TorchDtype.FLOAT32, storage, 5, new long[] {3, 2}, new long[] {1, 4}, "t").toFloats());
        InvalidInputException past = assertThrows(InvalidInputException.class,
                () -> TorchTensor.view(TorchDtype.FLOAT32, storage, 12, new long[] {2, 3}, new long[] {4, 1}, "bad"));
        assertTrue(past.getMessage().contains("reaches element 18 of a storage of 16 elements"), past.getMessage());
    }

    @Test
    void halfPrecisionWidensExactly() {
        assertEquals(1.0f, TorchDtype.halfToFloat((short) 0x3c00));
        assertEquals(-2.0f, TorchDtype.halfToFloat((short) 0xc000));
        assertEquals(65504f, TorchDtype.halfToFloat((short) 0x7bff), "the largest half");
        assertEquals(0x1p-24f, TorchDtype.halfToFloat((short) 0x0001), "the smallest subnormal");
        assertEquals(Float.POSITIVE_INFINITY, TorchDtype.halfToFloat((short) 0x7c00));
        assertTrue(Float.isNaN(TorchDtype.halfToFloat((short) 0x7e00)));
        assertEquals(-0.0f, TorchDtype.halfToFloat((short) 0x8000));
    }

    /** Pickle opcodes of protocol 4, for hand-made pickles. */
    private static byte[] pickle(Object... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(0x80);
        out.write(4);
        for (Object p : parts) {
            if (p instanceof String s) { // SHORT_BINUNICODE
                byte[] b = s.getBytes(StandardCharsets.UTF_8);
                out.write(0x8c);
                out.write(b.length);
                out.writeBytes(b);
            } else if (p instanceof Character c) {
                out.write(c);
            } else {
                out.write((Integer) p);
            }
        }
        out.write('.');
        return out.toByteArray();
    }

    private static String refusal(byte[] pickle) {
        RestrictedUnpickler unpickler = new RestrictedUnpickler("test.pkl", pid -> {
            throw new AssertionError("no storage is read");
        });
        return assertThrows(InvalidInputException.class, () -> unpickler.loads(pickle)).getMessage();
    }

    @Test
    void theAllowlistRefusesEveryOtherGlobalAndEveryOpcodeThatBuildsOtherObjects() {
        // os.system("true") by STACK_GLOBAL (protocol 4) and by GLOBAL: refused at the global, named.
        assertTrue(refusal(pickle("os", "system", 0x93, "true", 0x85, 'R')).contains("refers to the Python global os.system"));
        byte[] global = ("\u0080\u0002cbuiltins\neval\nX\u0003\u0000\u0000\u00001+1\u0085R.").getBytes(StandardCharsets.ISO_8859_1);
        assertTrue(refusal(global).contains("refers to the Python global builtins.eval"));
        // INST (a class by name and call) and BUILD on anything but an OrderedDict.
        byte[] inst = "(ios\nsystem\n.".getBytes(StandardCharsets.ISO_8859_1);
        assertTrue(refusal(inst).contains("opcode i"));
        assertTrue(refusal(pickle(']', '}', 'b')).contains("sets the state of a"));
        // What a state dict is made of is read.
        RestrictedUnpickler ok = new RestrictedUnpickler("ok.pkl", pid -> null);
        Object dict = assertDoesNotThrow(() -> ok.loads(pickle("collections", "OrderedDict", 0x93, ')', 'R', '}', 'b')));
        assertTrue(dict instanceof Map);
        assertTrue(RestrictedUnpickler.ALLOWED.contains("torch._utils._rebuild_tensor_v2"));
        assertTrue(RestrictedUnpickler.ALLOWED.contains("torch.FloatStorage"));
    }

    private static Object assertDoesNotThrow(org.junit.jupiter.api.function.ThrowingSupplier<Object> call) {
        return org.junit.jupiter.api.Assertions.assertDoesNotThrow(call);
    }

    @Test
    void bothWritersAreReadBackExactly() throws Exception {
        Map<String, Object> tree = new LinkedHashMap<>();
        Map<String, Object> sd = new LinkedHashMap<>();
        sd.put("a.weight", TorchTensor.ofFloats(new long[] {2, 3}, new float[] {1.5f, -0f, Float.MIN_VALUE, 3, 4, -5}));
        sd.put("a.num_batches_tracked", TorchTensor.scalar(1L << 40));
        tree.put("model_state_dict", sd);
        tree.put("model_config", new LinkedHashMap<>(Map.of("arch", "resnet50")));
        tree.put("epoch", 7);
        Path pth = dir.resolve("x.pth");
        try (var out = Files.newOutputStream(pth)) {
            TorchSaveWriter.write(tree, out);
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> read = (Map<String, Object>) PyTorchFiles.read(pth, "x.pth");
        assertEquals(sd, read.get("model_state_dict"));
        assertEquals(7, ((Number) read.get("epoch")).intValue());
        assertEquals("resnet50", ((Map<?, ?>) read.get("model_config")).get("arch"));

        Path st = dir.resolve("x.safetensors");
        @SuppressWarnings("unchecked")
        Map<String, TorchTensor> tensors = (Map<String, TorchTensor>) (Map<?, ?>) sd;
        PyTorchFiles.writeStateDict(tensors, st);
        assertEquals(PyTorchFiles.Format.SAFETENSORS, PyTorchFiles.format(st, "x"));
        assertEquals(sd, PyTorchFiles.read(st, "x.safetensors"));
        byte[] bytes = Files.readAllBytes(st);
        Files.write(st, java.util.Arrays.copyOf(bytes, bytes.length - 3));
        assertTrue(assertThrows(InvalidInputException.class, () -> PyTorchFiles.read(st, "cut.safetensors")).getMessage()
                .contains("the file is truncated"));
    }
}
