package org.sparsetransfer.core.model;

import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The names a model's reference implementation gives its parameters (torchvision's state-dict
 * keys for the ResNets, Distiller's for MobileNetV1): an architecture names each layer block
 * with its reference prefix as it builds the model, and {@link #keys} maps every parameter of the
 * built model to {@code prefix.name}, with DJL's BatchNorm names turned into PyTorch's.
 */
final class ReferenceNames {
    private final Map<Block, String> prefixes = new IdentityHashMap<>();

    /** Records {@code block}'s reference prefix (e.g. {@code layer1.0.conv1}) and returns it. */
    <B extends Block> B named(B block, String prefix) {
        prefixes.put(block, prefix);
        return block;
    }

    /**
     * For each parameter name of {@code model} (in parameter order), its reference key. Every
     * parameter must belong to a named block; parameters are named before initialization, so
     * nothing is allocated.
     */
    Map<String, String> keys(Block model) {
        Map<Parameter, String> byParameter = new IdentityHashMap<>();
        prefixes.forEach((block, prefix) -> {
            for (Pair<String, Parameter> p : block.getParameters()) {
                byParameter.put(p.getValue(), prefix + "." + torchName(p.getKey()));
            }
        });
        Map<String, String> byName = new LinkedHashMap<>();
        for (Pair<String, Parameter> p : model.getParameters()) {
            String key = byParameter.get(p.getValue());
            if (key == null) {
                throw new IllegalStateException("parameter " + p.getKey() + " has no reference key");
            }
            byName.put(p.getKey(), key);
        }
        return byName;
    }

    /** PyTorch's name of a DJL parameter of a layer (BatchNorm's gamma is PyTorch's weight, and so on). */
    private static String torchName(String djlName) {
        return switch (djlName) {
            case "gamma" -> "weight";
            case "beta" -> "bias";
            case "runningMean" -> "running_mean";
            case "runningVar" -> "running_var";
            case "weight", "bias" -> djlName;
            default -> throw new IllegalStateException("a layer parameter PyTorch has no name for: " + djlName);
        };
    }
}
