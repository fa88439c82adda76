package org.sparsetransfer.core.model;

import java.io.Serializable;

/**
 * Which weight tensors pruning may touch. Biases and 1-d tensors never; the first layer and the
 * classifier head only when asked (docs/design.md, "Pruning methods").
 */
public record PrunablePolicy(boolean pruneFirstLayer, boolean pruneHead) implements Serializable {
    public static final PrunablePolicy DEFAULT = new PrunablePolicy(false, false);
}
