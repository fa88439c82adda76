package org.sparsetransfer.core.checkpoint.pytorch;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import net.razorvine.pickle.IObjectPickler;
import net.razorvine.pickle.Opcodes;
import net.razorvine.pickle.Pickler;

/**
 * Writes an object as {@code torch.save} does (the zip format of PyTorch 1.6 on): maps with
 * string keys, lists, strings, numbers, booleans and {@link TorchTensor}s, pickled with protocol 2
 * by razorvine's {@link Pickler}, each tensor as a call of {@code torch._utils._rebuild_tensor_v2}
 * on a storage named by a persistent id, each storage an entry {@code archive/data/<key>} stored
 * uncompressed at a 64-byte boundary (as PyTorch's writer aligns them, so that
 * {@code torch.load(mmap=True)} works), and {@code archive/version}. The three torch-specific
 * constructs are razorvine custom picklers of private marker types; everything else is plain
 * pickling. {@code torch.load(f, weights_only=True)} reads the result.
 */
public final class TorchSaveWriter {
    /** The serialization format version PyTorch writes into {@code archive/version}. */
    private static final String FORMAT_VERSION = "3\n";
    private static final String FOLDER = "archive/";
    private static final int ALIGNMENT = 64;
    /** The id of the padding extra field PyTorch's writer uses ('FB'). */
    private static final int PADDING_FIELD = 0x4246;

    /** A tensor in the pickle: rebuilt from storage {@code key}, contiguous. */
    private record TensorCall(TorchTensor tensor, String key) {}

    /** The storage of a tensor, pickled as its persistent id. */
    private record StorageId(TorchDtype dtype, String key, long numel) {}

    /** A storage type, pickled as a bare global (e.g. {@code torch.FloatStorage}). */
    private record StorageTypeName(TorchDtype dtype) {}

    /** An empty {@code collections.OrderedDict()} (a tensor's backward hooks). */
    private record EmptyOrderedDict() {}

    static {
        Pickler.registerCustomPickler(TensorCall.class, (IObjectPickler) (o, out, pickler) -> {
            TensorCall t = (TensorCall) o;
            long[] shape = t.tensor().shape();
            Object[] size = new Object[shape.length];
            Object[] stride = new Object[shape.length];
            long step = 1;
            for (int d = shape.length - 1; d >= 0; d--) {
                size[d] = shape[d];
                stride[d] = step;
                step *= shape[d];
            }
            global(out, "torch._utils", "_rebuild_tensor_v2");
            pickler.save(new Object[] {new StorageId(t.tensor().dtype(), t.key(), t.tensor().numel()), 0L, size, stride, false,
                    new EmptyOrderedDict()});
            out.write(Opcodes.REDUCE);
        });
        Pickler.registerCustomPickler(StorageId.class, (IObjectPickler) (o, out, pickler) -> {
            StorageId s = (StorageId) o;
            pickler.save(new Object[] {"storage", new StorageTypeName(s.dtype()), s.key(), "cpu", s.numel()});
            out.write(Opcodes.BINPERSID);
        });
        Pickler.registerCustomPickler(StorageTypeName.class,
                (IObjectPickler) (o, out, pickler) -> global(out, "torch", ((StorageTypeName) o).dtype().storageClass()));
        Pickler.registerCustomPickler(EmptyOrderedDict.class, (IObjectPickler) (o, out, pickler) -> {
            global(out, "collections", "OrderedDict");
            out.write(Opcodes.EMPTY_TUPLE);
            out.write(Opcodes.REDUCE);
        });
    }

    private TorchSaveWriter() {}

    private static void global(OutputStream out, String module, String name) throws IOException {
        out.write(Opcodes.GLOBAL);
        out.write((module + "\n" + name + "\n").getBytes(StandardCharsets.US_ASCII));
    }

    /** Writes {@code object} to {@code out} as {@code torch.save(object, f)} would; {@code out} is left open. */
    public static void write(Map<String, ?> object, OutputStream out) throws IOException {
        List<TensorCall> tensors = new ArrayList<>();
        Object pickled = replaceTensors(object, tensors, new IdentityHashMap<>());
        byte[] pickle = new Pickler(true, false).dumps(pickled);
        CountingOutputStream counted = new CountingOutputStream(out);
        ZipOutputStream zip = new ZipOutputStream(counted);
        zip.setLevel(0);
        put(zip, counted, FOLDER + "data.pkl", pickle);
        put(zip, counted, FOLDER + "byteorder", "little".getBytes(StandardCharsets.US_ASCII));
        for (TensorCall t : tensors) {
            put(zip, counted, FOLDER + "data/" + t.key(), t.tensor().data());
        }
        put(zip, counted, FOLDER + "version", FORMAT_VERSION.getBytes(StandardCharsets.US_ASCII));
        zip.finish();
    }

    /** A copy of the tree whose tensors are replaced by their pickling calls, each with a storage of its own. */
    private static Object replaceTensors(Object node, List<TensorCall> tensors, IdentityHashMap<Object, Object> seen) {
        if (node instanceof TorchTensor t) {
            return seen.computeIfAbsent(t, k -> {
                TensorCall call = new TensorCall(t, Integer.toString(tensors.size()));
                tensors.add(call);
                return call;
            });
        }
        if (node instanceof Map<?, ?> map) {
            Map<Object, Object> out = new LinkedHashMap<>();
            map.forEach((k, v) -> out.put(k, replaceTensors(v, tensors, seen)));
            return out;
        }
        if (node instanceof List<?> list) {
            List<Object> out = new ArrayList<>();
            list.forEach(v -> out.add(replaceTensors(v, tensors, seen)));
            return out;
        }
        if (node == null || node instanceof String || node instanceof Number || node instanceof Boolean) {
            return node;
        }
        throw new IllegalArgumentException("cannot write a " + node.getClass().getName() + " into a torch.save file");
    }

    /** One uncompressed entry whose data starts at a multiple of {@link #ALIGNMENT} bytes. */
    private static void put(ZipOutputStream zip, CountingOutputStream counted, String name, byte[] data) throws IOException {
        ZipEntry entry = new ZipEntry(name);
        entry.setMethod(ZipEntry.STORED);
        entry.setSize(data.length);
        entry.setCompressedSize(data.length);
        CRC32 crc = new CRC32();
        crc.update(data);
        entry.setCrc(crc.getValue());
        entry.setTime(315_532_800_000L + 86_400_000L); // 1980-01-02, in DOS time's range: no extended-time field
        int header = 30 + name.getBytes(StandardCharsets.UTF_8).length + 4;
        int pad = (int) ((ALIGNMENT - (counted.count + header) % ALIGNMENT) % ALIGNMENT);
        byte[] extra = new byte[4 + pad];
        extra[0] = (byte) (PADDING_FIELD & 0xff);
        extra[1] = (byte) (PADDING_FIELD >>> 8);
        extra[2] = (byte) (pad & 0xff);
        extra[3] = (byte) (pad >>> 8);
        entry.setExtra(extra);
        zip.putNextEntry(entry);
        zip.write(data);
        zip.closeEntry();
    }

    /** Counts the bytes written through it, to place each entry's data. */
    private static final class CountingOutputStream extends FilterOutputStream {
        long count;

        CountingOutputStream(OutputStream out) {
            super(out);
        }

        @Override
        public void write(int b) throws IOException {
            out.write(b);
            count++;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
            count += len;
        }
    }
}
