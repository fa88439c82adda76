package org.sparsetransfer.core.checkpoint.pytorch;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import net.razorvine.pickle.IObjectConstructor;
import net.razorvine.pickle.Opcodes;
import net.razorvine.pickle.PickleException;
import net.razorvine.pickle.PickleUtils;
import net.razorvine.pickle.Unpickler;
import org.sparsetransfer.core.InvalidInputException;

/**
 * The unpickler of {@code data.pkl} in a {@code torch.save} archive that, like
 * {@code torch.load(weights_only=True)}, constructs nothing but what a state dict is made of.
 * Razorvine's {@link Unpickler} (the one Spark brings) parses the opcodes; this subclass takes over
 * the opcodes that name or build objects:
 * <ul>
 *   <li>{@code GLOBAL} and {@code STACK_GLOBAL} resolve only the names of {@link #ALLOWED} (the
 *       tensor-rebuild functions, the storage types, {@code collections.OrderedDict}); any other
 *       name is refused with an error naming it, at the opcode, so nothing is built from it. Plain
 *       containers and scalars need no global.</li>
 *   <li>{@code INST}, {@code OBJ}, {@code PERSID} and the extension-registry opcodes, which a
 *       state dict never uses, are refused.</li>
 *   <li>{@code BUILD} only sets the state of an {@code OrderedDict} (a state dict's
 *       {@code _metadata}, which is dropped); anything else is refused.</li>
 * </ul>
 * Razorvine's own lookup of globals (a static registry that builds a {@code ClassDict} for an
 * unknown name) is never reached. Java cannot run Python code anyway; the allowlist makes sure
 * that a file which asks for anything else is refused rather than half-read.
 */
final class RestrictedUnpickler extends Unpickler {
    /** A storage type named by a persistent id (e.g. {@code torch.FloatStorage}). */
    record StorageType(TorchDtype dtype) {}

    /** The state dict's container: PyTorch pickles it as an {@code OrderedDict} whose state holds {@code _metadata}. */
    static final class OrderedDict extends LinkedHashMap<Object, Object> {
        private static final long serialVersionUID = 1L;
    }

    /** Storages by the persistent id's key; each is read from the archive once. */
    private final Function<Object[], byte[]> storages;
    private final String source;

    /** The globals a state dict may name, and what each builds. */
    private final Map<String, Object> allowed;

    RestrictedUnpickler(String source, Function<Object[], byte[]> storages) {
        this.source = source;
        this.storages = storages;
        this.allowed = allowedGlobals();
    }

    /** The names {@code torch.load(weights_only=True)} accepts in a state dict, and nothing else. */
    static final List<String> ALLOWED = List.copyOf(new RestrictedUnpickler("", pid -> null).allowed.keySet());

    private Map<String, Object> allowedGlobals() {
        Map<String, Object> globals = new LinkedHashMap<>();
        IObjectConstructor orderedDict = args -> {
            OrderedDict dict = new OrderedDict();
            if (args.length == 1 && args[0] instanceof List<?> pairs) { // OrderedDict([(k, v), ...])
                for (Object pair : pairs) {
                    Object[] kv = (Object[]) pair;
                    dict.put(kv[0], kv[1]);
                }
            }
            return dict;
        };
        globals.put("collections.OrderedDict", orderedDict);
        // _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata]);
        // _rebuild_tensor(storage, storage_offset, size, stride) from older versions.
        IObjectConstructor rebuild = args -> rebuildTensor(args);
        globals.put("torch._utils._rebuild_tensor_v2", rebuild);
        globals.put("torch._utils._rebuild_tensor", rebuild);
        // A Parameter (a state dict of named_parameters()): its data is the tensor.
        IObjectConstructor parameter = args -> {
            if (args.length < 1 || !(args[0] instanceof TorchTensor t)) {
                throw new PickleException("_rebuild_parameter without a tensor");
            }
            return t;
        };
        globals.put("torch._utils._rebuild_parameter", parameter);
        globals.put("torch._utils._rebuild_parameter_with_state", parameter);
        for (TorchDtype dtype : TorchDtype.values()) {
            globals.put("torch." + dtype.storageClass(), new StorageType(dtype));
        }
        return globals;
    }

    private Object rebuildTensor(Object[] args) {
        if (args.length < 4 || !(args[0] instanceof Storage storage)) {
            throw new PickleException("a tensor rebuild with arguments other than (storage, offset, size, stride, ...)");
        }
        return TorchTensor.view(storage.dtype(), storage.bytes(), toLong(args[1]), longs(args[2]), longs(args[3]),
                source + " (storage " + storage.key() + ")");
    }

    /** A storage loaded for a persistent id. */
    record Storage(TorchDtype dtype, String key, byte[] bytes) {}

    @Override
    protected Object persistentLoad(Object pid) {
        // torch.save writes ('storage', storage_type, key, location, numel).
        if (!(pid instanceof Object[] t) || t.length != 5 || !"storage".equals(t[0]) || !(t[1] instanceof StorageType type)) {
            throw new InvalidInputException(source + ": a persistent id other than a torch storage (" + describe(pid)
                    + "); only torch.save state dicts can be read");
        }
        String key = String.valueOf(t[2]);
        long numel = toLong(t[4]);
        byte[] bytes = storages.apply(new Object[] {key, numel, type.dtype()});
        return new Storage(type.dtype(), key, bytes);
    }

    @Override
    protected Object dispatch(short key) throws PickleException, IOException {
        switch (key) {
            case Opcodes.GLOBAL -> {
                String module = PickleUtils.readline(input);
                String name = PickleUtils.readline(input);
                stack.add(resolve(module, name));
                return NO_RETURN_VALUE;
            }
            case Opcodes.STACK_GLOBAL -> {
                Object name = stack.pop();
                Object module = stack.pop();
                stack.add(resolve(String.valueOf(module), String.valueOf(name)));
                return NO_RETURN_VALUE;
            }
            case Opcodes.BUILD -> {
                Object state = stack.pop();
                if (!(stack.peek() instanceof OrderedDict)) {
                    throw new InvalidInputException(source + ": the pickle sets the state of a " + describe(stack.peek())
                            + ", which a state dict never does; only torch.save state dicts can be read");
                }
                return NO_RETURN_VALUE; // an OrderedDict's state (a state dict's _metadata): not needed
            }
            case Opcodes.INST, Opcodes.OBJ, Opcodes.PERSID, Opcodes.EXT1, Opcodes.EXT2, Opcodes.EXT4 ->
                    throw new InvalidInputException(source + ": the pickle uses opcode " + (char) key + " (0x" + Integer.toHexString(key)
                            + "), which builds objects a state dict does not have; only torch.save state dicts can be read");
            default -> {
                return super.dispatch(key);
            }
        }
    }

    private Object resolve(String module, String name) {
        Object found = allowed.get(module + "." + name);
        if (found == null) {
            throw new InvalidInputException(source + " refers to the Python global " + module + "." + name
                    + ", which a weights-only load does not allow (allowed: state dicts of tensors, "
                    + "collections.OrderedDict, plain containers and scalars); nothing was read. Save only the weights, "
                    + "e.g. torch.save({'state_dict': model.state_dict()}, f), or safetensors");
        }
        return found;
    }

    private static String describe(Object o) {
        return o == null ? "None" : o instanceof Object[] a ? "tuple of " + a.length : o.getClass().getSimpleName();
    }

    static long toLong(Object o) {
        if (o instanceof Number n) {
            return n.longValue();
        }
        throw new PickleException("expected an integer, got " + describe(o));
    }

    private static long[] longs(Object o) {
        if (o instanceof Object[] a) { // a tuple, or torch.Size (a tuple subclass pickled as a tuple)
            long[] out = new long[a.length];
            for (int i = 0; i < a.length; i++) {
                out[i] = toLong(a[i]);
            }
            return out;
        }
        throw new PickleException("expected a tuple of integers, got " + describe(o));
    }
}
