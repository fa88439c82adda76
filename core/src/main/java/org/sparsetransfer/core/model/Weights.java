package org.sparsetransfer.core.model;

import java.io.Serializable;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/** All tensors of a model by parameter name, in the model's parameter order. */
public final class Weights implements Serializable {
    private static final long serialVersionUID = 1L;
    private final LinkedHashMap<String, Tensor> tensors;

    public Weights(Map<String, Tensor> tensors) {
        this.tensors = new LinkedHashMap<>(tensors);
    }

    public Map<String, Tensor> tensors() {
        return Collections.unmodifiableMap(tensors);
    }

    public Tensor get(String name) {
        Tensor t = tensors.get(name);
        if (t == null) {
            throw new IllegalArgumentException("no tensor named " + name + "; have " + tensors.keySet());
        }
        return t;
    }

    public long parameterCount() {
        return tensors.values().stream().mapToLong(Tensor::size).sum();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Weights w && tensors.equals(w.tensors);
    }

    @Override
    public int hashCode() {
        return tensors.hashCode();
    }
}
