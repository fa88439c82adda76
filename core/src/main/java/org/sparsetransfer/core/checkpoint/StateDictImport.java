package org.sparsetransfer.core.checkpoint;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.sparsetransfer.core.InvalidInputException;
import org.sparsetransfer.core.IoErrors;
import org.sparsetransfer.core.io.FileSource;
import org.sparsetransfer.core.model.Network;
import org.sparsetransfer.core.model.PrunablePolicy;
import org.sparsetransfer.core.model.ResNet;
import org.sparsetransfer.core.model.Tensor;
import org.sparsetransfer.core.model.TorchThreads;
import org.sparsetransfer.core.model.Weights;
import org.sparsetransfer.core.prune.Mask;

/**
 * Imports a PyTorch ResNet's {@code state_dict()} saved as safetensors (torchvision or SparseZoo
 * checkpoints; no Python at run time: DJL reads the format) as the project's weights, mapping each
 * torchvision key to its parameter ({@link ResNet#torchvisionKeys}) and checking every shape. The
 * zeros of the prunable tensors become the mask, so an already-sparse model keeps its sparsity
 * pattern exactly; a dense model gets a dense mask. Export on the PyTorch side:
 * <pre>
 * from safetensors.torch import save_file
 * save_file({k: v.float().contiguous() for k, v in model.state_dict().items()}, "resnet50.safetensors")
 * </pre>
 */
public final class StateDictImport {
    /** BatchNorm's step counters: torchvision saves them, nothing here uses them. */
    private static final String IGNORED_SUFFIX = "num_batches_tracked";

    /** The weights, the zeros of the prunable tensors as the mask, and the SHA-256 (hex) of the file's bytes, read once for both. */
    public record Imported(Weights weights, Mask mask, String sha256) {}

    private StateDictImport() {}

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    }

    public static Imported resnet(ResNet architecture, int numClasses, Path file, PrunablePolicy policy) {
        return resnet(architecture, numClasses, FileSource.local(), file.toString(), policy);
    }

    /** The weights file at {@code location}, read through {@code files} (a local path, or a URI such as hdfs://nn:8020/w.safetensors). */
    public static Imported resnet(ResNet architecture, int numClasses, FileSource files, String location, PrunablePolicy policy) {
        try {
            if (files.isDirectory(location)) {
                throw new InvalidInputException("Weights file " + location + " is a directory; give the .safetensors file itself");
            }
            if (!files.isFile(location)) {
                throw new InvalidInputException("Weights file not found: " + location + "; export the state_dict as safetensors (see docs/usage.md, \"Image datasets\")");
            }
            try (InputStream in = files.open(location)) {
                return resnet(architecture, numClasses, in, location, policy);
            }
        } catch (IOException e) {
            throw new InvalidInputException("Cannot read weights file " + location + ": " + IoErrors.describe(e), e);
        }
    }

    public static Imported resnet(ResNet architecture, int numClasses, InputStream safetensors, String source, PrunablePolicy policy) {
        Map<String, String> keys = architecture.torchvisionKeys(numClasses);
        DigestInputStream hashed = new DigestInputStream(safetensors, sha256());
        try {
            Imported read = TorchThreads.exclusive(() -> importNamed(architecture, numClasses, keys, hashed, source, policy));
            hashed.transferTo(OutputStream.nullOutputStream()); // whatever the reader left, so the hash covers the whole file
            return new Imported(read.weights(), read.mask(), HexFormat.of().formatHex(hashed.getMessageDigest().digest()));
        } catch (IOException e) {
            throw new InvalidInputException("Cannot read weights file " + source + ": " + IoErrors.describe(e), e);
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static Imported importNamed(ResNet architecture, int numClasses, Map<String, String> keys, InputStream safetensors,
            String source, PrunablePolicy policy) {
        try (NDManager manager = NDManager.newBaseManager(Device.cpu());
                Network net = Network.classifier(architecture, numClasses, 0, Device.cpu())) {
            Map<String, NDArray> stateDict = read(manager, safetensors, source);
            Set<String> unused = new TreeSet<>(stateDict.keySet());
            unused.removeIf(k -> k.endsWith(IGNORED_SUFFIX));
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            List<String> missing = new ArrayList<>();
            for (Map.Entry<String, String> e : keys.entrySet()) {
                NDArray array = stateDict.get(e.getValue());
                if (array == null) {
                    missing.add(e.getValue());
                    continue;
                }
                unused.remove(e.getValue());
                Shape expected = net.parameters().get(e.getKey()).getArray().getShape();
                if (!array.getShape().equals(expected)) {
                    // Only a head that differs in its classes alone is this architecture with another head.
                    boolean otherClasses = e.getValue().startsWith("fc.") && array.getShape().dimension() == expected.dimension()
                            && (expected.dimension() == 1 || array.getShape().get(1) == expected.get(1));
                    String hint = otherClasses ? "; the file's head has " + array.getShape().get(0)
                            + " classes, pass that number as the number of classes" : "; it is not a " + architecture.name() + " state_dict";
                    throw new InvalidInputException(source + ": " + e.getValue() + " has shape " + array.getShape() + " but "
                            + architecture.name() + " expects " + expected + hint);
                }
                tensors.put(e.getKey(), new Tensor(expected.getShape(), array.toType(DataType.FLOAT32, false).toFloatArray()));
            }
            if (!missing.isEmpty() || !unused.isEmpty()) {
                throw new InvalidInputException(source + " is not a torchvision " + architecture.name() + " state_dict: "
                        + (missing.isEmpty() ? "" : missing.size() + " keys missing (e.g. " + missing.subList(0, Math.min(3, missing.size())) + ")")
                        + (!missing.isEmpty() && !unused.isEmpty() ? ", " : "")
                        + (unused.isEmpty() ? "" : unused.size() + " unexpected keys (e.g. " + unused.stream().limit(3).toList() + ")"));
            }
            Weights weights = new Weights(tensors);
            return new Imported(weights, zerosAsMask(weights, net.prunableTensors(policy)), null);
        }
    }

    /** The mask that prunes exactly the zeros of {@code prunable}. */
    static Mask zerosAsMask(Weights weights, Set<String> prunable) {
        Map<String, boolean[]> bits = new LinkedHashMap<>();
        for (String name : prunable) {
            float[] v = weights.get(name).values();
            boolean[] kept = new boolean[v.length];
            for (int i = 0; i < v.length; i++) {
                kept[i] = v[i] != 0f;
            }
            bits.put(name, kept);
        }
        return new Mask(bits);
    }

    private static Map<String, NDArray> read(NDManager manager, InputStream in, String source) {
        NDList list;
        try {
            list = NDList.decode(manager, in);
        } catch (RuntimeException e) {
            throw new InvalidInputException(source + " is not a safetensors (or DJL/NPZ) file: " + e.getMessage(), e);
        }
        Map<String, NDArray> byName = new LinkedHashMap<>();
        for (NDArray a : list) {
            if (a.getName() == null) {
                throw new InvalidInputException(source + " holds unnamed tensors; save the state_dict (names are its keys)");
            }
            byName.put(a.getName(), a);
        }
        return byName;
    }
}
