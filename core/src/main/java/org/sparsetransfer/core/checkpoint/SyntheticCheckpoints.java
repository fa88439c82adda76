package org.sparsetransfer.core.checkpoint;

import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import org.sparsetransfer.core.checkpoint.pytorch.TorchTensor;
import org.sparsetransfer.core.model.Architecture;
import org.sparsetransfer.core.model.Tensor;
import org.sparsetransfer.core.model.Weights;
import org.sparsetransfer.core.prune.Mask;

/**
 * Checkpoints in the layouts published ones use (see {@link StateDictLayout}), made from weights
 * and a mask: for generated experiments ({@code synth-images --experiment paper-smoke}) and tests
 * that need files as the methods' authors save them, without PyTorch.
 */
public final class SyntheticCheckpoints {
    /** The layouts of {@link StateDictLayout}, as their authors' code writes them. */
    public enum Layout {
        /** torchvision's {@code state_dict()}, pruned weights zero. */
        PLAIN,
        /** {@code {'state_dict': ..., 'epoch': 90}} with DataParallel's {@code module.} prefixes. */
        WRAPPED,
        /**
         * The study's (sparse-imagenet-transfer): {@code {'model_config': ..., 'model_state_dict': ...}} with
         * {@code module.} prefixes and each masked layer wrapped ({@code X._layer.weight} unmasked, {@code X._weight_mask}).
         */
        STUDY,
        /** {@code torch.nn.utils.prune}'s {@code X.weight_orig} (unmasked) and {@code X.weight_mask}. */
        TORCH_PRUNE
    }

    private SyntheticCheckpoints() {}

    /**
     * What a {@code torch.save} of {@code weights} under {@code mask} in {@code layout} holds
     * (for {@link org.sparsetransfer.core.checkpoint.pytorch.TorchSaveWriter}); for safetensors,
     * write a {@link Layout#PLAIN} one.
     */
    public static Map<String, Object> inLayout(Architecture architecture, Weights weights, Mask mask, Layout layout) {
        LinkedHashMap<String, TorchTensor> masked = StateDictExport.toReference(architecture, weights, mask);
        Map<String, String> keys = architecture.referenceKeys(2);
        Set<String> maskedKeys = new LinkedHashSet<>();
        mask.tensorNames().forEach(name -> maskedKeys.add(keys.get(name)));
        Map<String, String> names = new LinkedHashMap<>();
        keys.forEach((name, key) -> names.put(key, name));
        Map<String, Object> out = new LinkedHashMap<>();
        switch (layout) {
            case PLAIN -> out.putAll(masked);
            case WRAPPED -> {
                Map<String, Object> sd = new LinkedHashMap<>();
                masked.forEach((k, v) -> sd.put("module." + k, v));
                out.put("state_dict", sd);
                out.put("epoch", 90);
            }
            case STUDY -> {
                Map<String, Object> sd = new LinkedHashMap<>();
                masked.forEach((k, v) -> {
                    if (maskedKeys.contains(k)) {
                        String layer = k.substring(0, k.length() - ".weight".length());
                        sd.put("module." + layer + "._layer.weight", unmasked(weights.get(names.get(k))));
                        sd.put("module." + layer + "._weight_mask", maskTensor(mask.bits(names.get(k)), v.shape()));
                    } else {
                        sd.put("module." + k, v);
                    }
                });
                out.put("model_config", new LinkedHashMap<>(Map.of("arch", architecture.name(), "dataset", "imagenet")));
                out.put("model_state_dict", sd);
            }
            case TORCH_PRUNE -> masked.forEach((k, v) -> {
                if (maskedKeys.contains(k)) {
                    out.put(k + "_orig", unmasked(weights.get(names.get(k))));
                    out.put(k + "_mask", maskTensor(mask.bits(names.get(k)), v.shape()));
                } else {
                    out.put(k, v);
                }
            });
        }
        return out;
    }

    /** The weights as they were before pruning: a wrapped layer stores them so, and multiplies by its mask at forward. */
    private static TorchTensor unmasked(Tensor t) {
        return TorchTensor.ofFloats(t.shape(), t.values());
    }

    private static TorchTensor maskTensor(boolean[] bits, long[] shape) {
        float[] ones = new float[bits.length];
        for (int i = 0; i < bits.length; i++) {
            ones[i] = bits[i] ? 1f : 0f;
        }
        return TorchTensor.ofFloats(shape, ones);
    }
}
