package org.sparsetransfer.core.checkpoint;

import ai.djl.Device;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.sparsetransfer.core.InvalidInputException;
import org.sparsetransfer.core.IoErrors;
import org.sparsetransfer.core.checkpoint.pytorch.PyTorchFiles;
import org.sparsetransfer.core.checkpoint.pytorch.TorchTensor;
import org.sparsetransfer.core.io.FileSource;
import org.sparsetransfer.core.model.Architecture;
import org.sparsetransfer.core.model.Network;
import org.sparsetransfer.core.model.Tensor;
import org.sparsetransfer.core.model.TorchThreads;
import org.sparsetransfer.core.model.Weights;
import org.sparsetransfer.core.prune.Mask;

/**
 * Imports a published PyTorch checkpoint ({@code torch.save} archive or safetensors, in any
 * layout {@link StateDictLayout} knows) as an architecture's weights: each parameter is found by
 * its key in the architecture's reference layout ({@link Architecture#referenceKeys}) and its
 * shape checked; every missing, misshapen or unplaced key is listed in one error. The
 * classifier head is optional (transfer replaces it); its number of classes is read from it.
 *
 * <p>The mask covers every weight tensor of the backbone with two or more dimensions (the first
 * convolution included, since published methods differ in whether they prune it; the head is
 * left out, since transfer replaces it): the zeros of the weights once the file's own masks are
 * applied, so every layout of one checkpoint gives one mask, and its sparsity is PyTorch's count
 * of zeros. Weights must be finite.
 */
public final class StateDictImport {
    /** What an import matched, left out, and found: for the command's report. */
    public record Report(String layout, int matched, boolean head, List<String> ignored) {
        /** One line per fact, e.g. "matched 122 tensors of resnet50 (torchvision keys) ...". */
        public List<String> lines(Architecture architecture) {
            List<String> out = new ArrayList<>();
            out.add(String.format(Locale.ROOT, "layout: %s", layout));
            out.add(String.format(Locale.ROOT, "matched %d tensors to %s's parameters (%s keys)%s", matched, architecture.name(),
                    architecture.referenceLayout(), head ? "" : "; no classifier head in the file (transfer adds its own)"));
            out.add(ignored.isEmpty() ? "ignored nothing" : "ignored " + ignored.size() + ": " + summarize(ignored));
            return out;
        }
    }

    /** The weights (head included when the file has one), the mask, the file's classes (0: no head), its SHA-256 and the report. */
    public record Imported(Weights weights, Mask mask, int numClasses, String sha256, Report report) {}

    private StateDictImport() {}

    /**
     * The checkpoint at {@code location}, read through {@code files} (a local path, or a URI such
     * as hdfs://nn:8020/w.pth), copied to a local temporary file on the way (the zip format needs
     * random access) and hashed.
     *
     * @param numClasses the head's classes when the caller knows them (checked against the file), or null
     */
    public static Imported read(Architecture architecture, Integer numClasses, FileSource files, String location) {
        Path local = null;
        try {
            if (files.isDirectory(location)) {
                throw new InvalidInputException("Weights file " + location + " is a directory; give the checkpoint file itself");
            }
            if (!files.isFile(location)) {
                throw new InvalidInputException("Weights file not found: " + location);
            }
            local = Files.createTempFile("sparse-transfer-import-", ".bin");
            MessageDigest digest = sha256();
            try (InputStream in = files.open(location); OutputStream out = new DigestOutputStream(Files.newOutputStream(local), digest)) {
                in.transferTo(out);
            }
            String sha = HexFormat.of().formatHex(digest.digest());
            Imported read = read(architecture, numClasses, local, location);
            return new Imported(read.weights(), read.mask(), read.numClasses(), sha, read.report());
        } catch (IOException e) {
            throw new InvalidInputException("Cannot read weights file " + location + ": " + IoErrors.describe(e), e);
        } finally {
            if (local != null) {
                try {
                    Files.deleteIfExists(local);
                } catch (IOException ignored) {
                    // a temporary file: the OS cleans its directory
                }
            }
        }
    }

    /** A local checkpoint file (its SHA-256 is not computed: null). */
    public static Imported read(Architecture architecture, Integer numClasses, Path file, String source) {
        StateDictLayout.Normalized found = StateDictLayout.normalize(PyTorchFiles.read(file, source), source);
        return place(architecture, numClasses, found, source);
    }

    /** Maps a normalized state dict onto {@code architecture}'s parameters. */
    static Imported place(Architecture architecture, Integer numClasses, StateDictLayout.Normalized found, String source) {
        Set<String> backbone = architecture.backboneParameters(2);
        Map<String, String> keysFor2 = architecture.referenceKeys(2);
        List<String> headKeys = keysFor2.entrySet().stream().filter(e -> !backbone.contains(e.getKey())).map(Map.Entry::getValue).toList();
        // The head's weight is its first parameter, [classes, features].
        TorchTensor headWeight = found.tensors().get(headKeys.get(0));
        boolean head = headKeys.stream().anyMatch(found.tensors()::containsKey);
        int classes;
        if (head) {
            if (headWeight == null || headWeight.shape().length < 1) {
                throw new InvalidInputException(source + ": its classifier head is incomplete (" + headKeys.stream()
                        .filter(k -> !found.tensors().containsKey(k)).toList() + " missing)");
            }
            classes = Math.toIntExact(headWeight.shape()[0]);
            if (numClasses != null && numClasses != classes) {
                throw new InvalidInputException(source + ": its head has " + classes + " classes, not the " + numClasses + " given");
            }
        } else {
            classes = numClasses != null ? numClasses : 1000;
        }
        Map<String, String> keys = architecture.referenceKeys(classes);
        Map<String, long[]> shapes = shapes(architecture, classes);

        Map<String, Tensor> tensors = new LinkedHashMap<>();
        List<String> missing = new ArrayList<>();
        Map<String, String> misshapen = new TreeMap<>();
        Set<String> unplaced = new LinkedHashSet<>(found.tensors().keySet());
        List<String> nonFinite = new ArrayList<>();
        for (Map.Entry<String, String> e : keys.entrySet()) {
            String name = e.getKey();
            String key = e.getValue();
            boolean isHead = !backbone.contains(name);
            TorchTensor t = found.tensors().get(key);
            if (t == null) {
                if (!isHead || head) {
                    missing.add(key);
                }
                continue;
            }
            unplaced.remove(key);
            long[] expected = shapes.get(name);
            if (!Arrays.equals(t.shape(), expected)) {
                misshapen.put(key, Arrays.toString(t.shape()) + " where " + architecture.name() + " has " + Arrays.toString(expected));
                continue;
            }
            float[] values = t.toFloats();
            for (float v : values) {
                if (!Float.isFinite(v)) {
                    nonFinite.add(key);
                    break;
                }
            }
            tensors.put(name, new Tensor(expected, values));
        }
        if (!missing.isEmpty() || !misshapen.isEmpty() || !unplaced.isEmpty()) {
            throw new InvalidInputException(source + " (" + found.layout() + ") does not fit " + architecture.name() + " ("
                    + architecture.referenceLayout() + " keys): "
                    + String.join("; ", describeMismatch(missing, misshapen, unplaced))
                    + hint(architecture, found));
        }
        if (!nonFinite.isEmpty()) {
            throw new InvalidInputException(source + ": tensors " + nonFinite + " hold NaN or infinite values; a checkpoint to transfer "
                    + "must be finite");
        }
        Weights weights = new Weights(tensors);
        Map<String, boolean[]> bits = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            String key = keys.get(e.getKey());
            if (!backbone.contains(e.getKey()) || e.getValue().shape().length < 2 || !key.endsWith("weight")) {
                continue;
            }
            // The file's masks are applied already: the zeros of the masked weights are the mask, whatever the layout
            // (a weight a mask keeps but is exactly zero counts as pruned, as PyTorch's count of zeros has it).
            float[] v = e.getValue().values();
            boolean[] kept = new boolean[v.length];
            for (int i = 0; i < v.length; i++) {
                kept[i] = v[i] != 0f;
            }
            bits.put(e.getKey(), kept);
        }
        Mask mask = new Mask(bits);
        // Pruned elements are +0.0 whatever the file holds (a masked -0.0 is -0.0 in PyTorch), as checkpoints decode them.
        return new Imported(mask.apply(weights), mask, head ? classes : 0, null,
                new Report(found.layout(), tensors.size(), head, found.ignored()));
    }

    private static List<String> describeMismatch(List<String> missing, Map<String, String> misshapen, Set<String> unplaced) {
        List<String> parts = new ArrayList<>();
        if (!missing.isEmpty()) {
            parts.add(missing.size() + " keys missing: " + summarize(missing));
        }
        if (!misshapen.isEmpty()) {
            parts.add(misshapen.size() + " shapes differ: " + summarize(misshapen.entrySet().stream().map(e -> e.getKey() + " " + e.getValue()).toList()));
        }
        if (!unplaced.isEmpty()) {
            parts.add(unplaced.size() + " tensors could not be placed: " + summarize(List.copyOf(unplaced)));
        }
        return parts;
    }

    /** Which known architecture the file's keys fit, when it is another one. */
    private static String hint(Architecture architecture, StateDictLayout.Normalized found) {
        for (Architecture other : Architecture.KNOWN) {
            if (other.name().equals(architecture.name())) {
                continue;
            }
            Set<String> keys = new LinkedHashSet<>(other.referenceKeys(2).values());
            long fit = found.tensors().keySet().stream().filter(keys::contains).count();
            // Every key of the file is one of the other's, and the other's are all there but perhaps its head.
            if (fit == found.tensors().size() && fit >= keys.size() - 2) {
                return "; its keys are those of " + other.name() + ": import it with --model " + other.name();
            }
        }
        return "";
    }

    private static String summarize(List<String> items) {
        return items.size() <= 8 ? items.toString() : items.subList(0, 8) + " and " + (items.size() - 8) + " more";
    }

    /** Each parameter's shape for {@code classes} classes (the network is initialized on the CPU to learn them). */
    private static Map<String, long[]> shapes(Architecture architecture, int classes) {
        try {
            return TorchThreads.exclusive(() -> {
                try (Network net = Network.classifier(architecture, classes, 0, Device.cpu())) {
                    Map<String, long[]> shapes = new LinkedHashMap<>();
                    net.parameters().forEach((name, p) -> shapes.put(name, p.getArray().getShape().getShape()));
                    return shapes;
                }
            });
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    }
}
