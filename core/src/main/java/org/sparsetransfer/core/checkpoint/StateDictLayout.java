package org.sparsetransfer.core.checkpoint;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.sparsetransfer.core.InvalidInputException;
import org.sparsetransfer.core.checkpoint.pytorch.TorchTensor;

/**
 * Finds the state dict in what a published checkpoint holds and brings it to plain keys, the
 * layouts real checkpoints use:
 * <ul>
 *   <li>a plain {@code state_dict()} (torchvision's, safetensors);</li>
 *   <li>one wrapped in a dict under {@code state_dict}, {@code model_state_dict} or {@code model}
 *       (training scripts' checkpoints; other entries, e.g. an optimizer's state, are ignored);</li>
 *   <li>{@code module.} prefixes (DataParallel, DistributedDataParallel);</li>
 *   <li>the study's sparse-imagenet-transfer layout ({@code {'model_config': ...,
 *       'model_state_dict': ...}} with mask-wrapped layers: {@code X._layer.weight},
 *       {@code X._layer.bias}, {@code X._weight_mask}, {@code X._bias_mask});</li>
 *   <li>{@code torch.nn.utils.prune}'s {@code X.weight_orig} with {@code X.weight_mask}.</li>
 * </ul>
 * Masks are applied (weight x mask) and kept by the key of the tensor they mask (checked to be 0/1
 * and of the tensor's shape); BatchNorm's {@code num_batches_tracked} counters are ignored.
 */
public final class StateDictLayout {
    /** Keys a training script wraps the state dict in, in the order they are looked for. */
    static final List<String> WRAPPERS = List.of("state_dict", "model_state_dict", "model");
    private static final String IGNORED_SUFFIX = "num_batches_tracked";

    /**
     * A normalized state dict: the tensors by plain key (masks applied), each mask by the key of
     * the tensor it masks, the keys left out (with why), and the layout in words.
     */
    public record Normalized(String layout, LinkedHashMap<String, TorchTensor> tensors, Map<String, boolean[]> masks,
            List<String> ignored) {}

    private StateDictLayout() {}

    /** The state dict in {@code loaded} (what {@link org.sparsetransfer.core.checkpoint.pytorch.PyTorchFiles#read} returned). */
    public static Normalized normalize(Object loaded, String source) {
        List<String> layout = new ArrayList<>();
        List<String> ignored = new ArrayList<>();
        Map<?, ?> dict = stateDict(loaded, source, layout, ignored);

        // Keys as strings; values that are not tensors are noted and left out.
        LinkedHashMap<String, TorchTensor> raw = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : dict.entrySet()) {
            String key = String.valueOf(e.getKey());
            if (e.getValue() instanceof TorchTensor t) {
                raw.put(key, t);
            } else {
                ignored.add(key + " (not a tensor)");
            }
        }
        if (raw.isEmpty()) {
            throw new InvalidInputException(source + " holds no tensors in its state dict");
        }
        raw = stripModulePrefix(raw, layout);

        LinkedHashMap<String, TorchTensor> tensors = new LinkedHashMap<>();
        Map<String, TorchTensor> maskTensors = new LinkedHashMap<>();
        boolean wrappedLayers = false;
        boolean pruneLayers = false;
        for (Map.Entry<String, TorchTensor> e : raw.entrySet()) {
            String key = e.getKey();
            if (key.endsWith(IGNORED_SUFFIX)) {
                ignored.add(key + " (BatchNorm's batch counter)");
            } else if (key.endsWith("._weight_mask") || key.endsWith("._bias_mask")) { // the study's mask-wrapped layers
                String layer = key.substring(0, key.lastIndexOf("._"));
                maskTensors.put(layer + (key.endsWith("._weight_mask") ? ".weight" : ".bias"), e.getValue());
                wrappedLayers = true;
            } else if (key.contains("._layer.")) {
                tensors.put(key.replace("._layer.", "."), e.getValue());
                wrappedLayers = true;
            } else if (key.endsWith("_mask") && raw.containsKey(key.substring(0, key.length() - "_mask".length()) + "_orig")) {
                maskTensors.put(key.substring(0, key.length() - "_mask".length()), e.getValue()); // torch.nn.utils.prune
                pruneLayers = true;
            } else if (key.endsWith("_orig") && raw.containsKey(key.substring(0, key.length() - "_orig".length()) + "_mask")) {
                tensors.put(key.substring(0, key.length() - "_orig".length()), e.getValue());
                pruneLayers = true;
            } else {
                tensors.put(key, e.getValue());
            }
        }
        if (wrappedLayers) {
            layout.add("mask-wrapped layers (sparse-imagenet-transfer)");
        }
        if (pruneLayers) {
            layout.add("torch.nn.utils.prune masks");
        }

        Map<String, boolean[]> masks = new LinkedHashMap<>();
        Map<String, String> problems = new TreeMap<>();
        maskTensors.forEach((key, maskTensor) -> {
            TorchTensor weight = tensors.get(key);
            if (weight == null) {
                problems.put(key, "a mask for a tensor the file does not have");
                return;
            }
            if (!java.util.Arrays.equals(weight.shape(), maskTensor.shape())) {
                problems.put(key, "mask of shape " + java.util.Arrays.toString(maskTensor.shape()) + " for a tensor of shape "
                        + java.util.Arrays.toString(weight.shape()));
                return;
            }
            float[] m = maskTensor.toFloats();
            float[] w = weight.toFloats();
            boolean[] kept = new boolean[m.length];
            for (int i = 0; i < m.length; i++) {
                if (m[i] != 0f && m[i] != 1f) {
                    problems.put(key, "mask value " + m[i] + " at element " + i + " (a mask holds 0 and 1)");
                    return;
                }
                kept[i] = m[i] == 1f;
                w[i] = kept[i] ? w[i] : 0f; // mask x weight, with +0.0 where pruned
            }
            masks.put(key, kept);
            tensors.put(key, TorchTensor.ofFloats(weight.shape(), w));
        });
        if (!problems.isEmpty()) {
            throw new InvalidInputException(source + ": " + problems.size() + " masks cannot be applied: " + problems);
        }
        return new Normalized(String.join(", ", layout), tensors, masks, ignored);
    }

    /** The dict of tensors in {@code loaded}: itself, or the one under a wrapper key. */
    private static Map<?, ?> stateDict(Object loaded, String source, List<String> layout, List<String> ignored) {
        if (!(loaded instanceof Map<?, ?> top)) {
            throw new InvalidInputException(source + " holds a " + kind(loaded) + ", not a state dict; save model.state_dict()");
        }
        if (holdsTensors(top)) {
            layout.add("a plain state_dict");
            return top;
        }
        for (String wrapper : WRAPPERS) {
            if (top.get(wrapper) instanceof Map<?, ?> inner && holdsTensors(inner)) {
                layout.add("a state_dict under '" + wrapper + "'" + (top.containsKey("model_config") ? " with model_config" : ""));
                top.keySet().stream().map(String::valueOf).filter(k -> !k.equals(wrapper)).forEach(k -> ignored.add(k + " (beside the state dict)"));
                return inner;
            }
        }
        throw new InvalidInputException(source + " holds no state dict: its top-level keys are " + top.keySet().stream()
                .map(String::valueOf).limit(20).toList() + "; expected tensors, or a dict of tensors under one of " + WRAPPERS);
    }

    /** Whether most values of {@code dict} are tensors (a state dict may hold a few other entries). */
    private static boolean holdsTensors(Map<?, ?> dict) {
        long tensors = dict.values().stream().filter(v -> v instanceof TorchTensor).count();
        return tensors > 0 && tensors * 2 >= dict.size();
    }

    /** Keys without their {@code module.} prefixes, when every key has one (one per wrapping, e.g. DataParallel in DDP). */
    private static LinkedHashMap<String, TorchTensor> stripModulePrefix(LinkedHashMap<String, TorchTensor> raw, List<String> layout) {
        LinkedHashMap<String, TorchTensor> current = raw;
        int stripped = 0;
        while (current.keySet().stream().allMatch(k -> k.startsWith("module."))) {
            LinkedHashMap<String, TorchTensor> next = new LinkedHashMap<>();
            current.forEach((k, v) -> next.put(k.substring("module.".length()), v));
            current = next;
            stripped++;
        }
        if (stripped > 0) {
            layout.add(stripped == 1 ? "'module.' prefixes" : stripped + " levels of 'module.' prefixes");
        }
        return current;
    }

    private static String kind(Object o) {
        return o == null ? "None" : o instanceof Object[] ? "tuple" : o instanceof List ? "list"
                : o instanceof TorchTensor ? "single tensor" : o.getClass().getSimpleName();
    }
}
