package org.sparsetransfer.core.model;

import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.sparsetransfer.core.InvalidInputException;

/**
 * A model family: builds a classifier as {@code Sequential[backbone, head]}, so parameter names
 * of the backbone do not depend on the head and transfer can swap heads.
 */
public interface Architecture {
    String name();

    /** Input shape for a batch of {@code batch} examples. */
    Shape inputShape(long batch);

    Classifier classifier(int numClasses);

    /**
     * For each parameter name of {@code classifier(numClasses)}'s model (in parameter order), its
     * key in the state dict of the architecture's reference implementation ({@link #referenceLayout}),
     * the key layout its published checkpoints use: what import reads and export writes.
     */
    Map<String, String> referenceKeys(int numClasses);

    /** Whose key layout {@link #referenceKeys} follows, in words (e.g. "torchvision"). */
    String referenceLayout();

    /**
     * The names, in {@code classifier(numClasses)}'s model, of the backbone's parameters: every
     * parameter but the head's (told apart by identity, since a child names its parameters
     * without the model's prefixes). Nothing is allocated.
     */
    default Set<String> backboneParameters(int numClasses) {
        Classifier c = classifier(numClasses);
        Set<Parameter> inBackbone = Collections.newSetFromMap(new IdentityHashMap<>());
        inBackbone.addAll(c.backbone().getParameters().values());
        Set<String> names = new LinkedHashSet<>();
        for (Pair<String, Parameter> p : c.model().getParameters()) {
            if (inBackbone.contains(p.getValue())) {
                names.add(p.getKey());
            }
        }
        return names;
    }

    /** The classifier and its backbone (a child of it whose output is the features). */
    record Classifier(SequentialBlock model, Block backbone) {}

    /** The models a config may name; RGB models for 224x224 ImageNet-style inputs (see {@link #byName(String, int)}). */
    List<Architecture> KNOWN = List.of(new SmallCnn(), ResNet.resnet18(224), ResNet.resnet50(224), new MobileNetV1(224));

    /** {@code name} for inputs of {@code side} x {@code side} pixels (RGB models; the small CNN is fixed at 28). */
    static Architecture byName(String name, int side) {
        return switch (name) {
            case "resnet18" -> ResNet.resnet18(side);
            case "resnet50" -> ResNet.resnet50(side);
            case "mobilenet_v1" -> new MobileNetV1(side);
            default -> byName(name);
        };
    }

    static Architecture byName(String name) {
        return KNOWN.stream().filter(a -> a.name().equals(name)).findFirst()
                .orElseThrow(() -> new InvalidInputException("Unknown model '" + name + "'; expected one of "
                        + KNOWN.stream().map(Architecture::name).toList()));
    }
}
