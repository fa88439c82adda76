package org.sparsetransfer.core.checkpoint;

import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import org.sparsetransfer.core.InvalidInputException;
import org.sparsetransfer.core.checkpoint.pytorch.TorchTensor;
import org.sparsetransfer.core.model.Architecture;
import org.sparsetransfer.core.model.Tensor;
import org.sparsetransfer.core.model.Weights;
import org.sparsetransfer.core.prune.Mask;

/**
 * A stored checkpoint as its architecture's reference state dict ({@link Architecture#referenceKeys}:
 * torchvision's keys for the ResNets, Distiller's for MobileNetV1, the project's own names for the
 * small CNN), the mask applied (pruned weights +0.0) and every BatchNorm's
 * {@code num_batches_tracked} included (0: the count is not kept), so that
 * {@code model.load_state_dict(sd, strict=True)} takes it.
 */
public final class StateDictExport {
    private static final String RUNNING_VAR = ".running_var";

    private StateDictExport() {}

    /** The state dict of {@code weights} (with or without a head) under {@code mask} (null: dense). */
    public static LinkedHashMap<String, TorchTensor> toReference(Architecture architecture, Weights weights, Mask mask) {
        Weights masked = mask == null ? weights : mask.apply(weights);
        LinkedHashMap<String, TorchTensor> out = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : architecture.referenceKeys(2).entrySet()) {
            if (!masked.tensors().containsKey(e.getKey())) {
                continue; // the head, for a checkpoint imported without one
            }
            Tensor t = masked.get(e.getKey());
            out.put(e.getValue(), TorchTensor.ofFloats(t.shape(), t.values()));
            if (e.getValue().endsWith(RUNNING_VAR)) {
                String layer = e.getValue().substring(0, e.getValue().length() - RUNNING_VAR.length());
                out.put(layer + ".num_batches_tracked", TorchTensor.scalar(0));
            }
        }
        return out;
    }

    /**
     * The known architecture whose parameters {@code weights} has (all of them, or all but the
     * head's); {@code side} is the input side of the RGB models (it changes no parameter).
     */
    public static Architecture architectureOf(Weights weights, int side) {
        Set<String> names = weights.tensors().keySet();
        for (Architecture known : Architecture.KNOWN) {
            Architecture a = Architecture.byName(known.name(), side);
            Set<String> all = new LinkedHashSet<>(a.classifier(2).model().getParameters().keys());
            Set<String> backbone = a.backboneParameters(2);
            if (names.equals(all) || names.equals(backbone)) {
                return a;
            }
        }
        throw new InvalidInputException("The checkpoint's " + names.size() + " tensors are not those of any known model "
                + Architecture.KNOWN.stream().map(Architecture::name).toList());
    }
}
