package org.sparsetransfer.core.prune;

import java.io.Serializable;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.sparsetransfer.core.model.Tensor;
import org.sparsetransfer.core.model.Weights;

/**
 * Which elements of the prunable tensors are kept ({@code true}) or pruned. Tensors absent
 * from the mask are dense. Immutable.
 */
public final class Mask implements Serializable {
    private static final long serialVersionUID = 1L;
    private final LinkedHashMap<String, boolean[]> kept;

    public Mask(Map<String, boolean[]> kept) {
        this.kept = new LinkedHashMap<>();
        kept.forEach((name, bits) -> this.kept.put(name, bits.clone()));
    }

    /** Every element of the named tensors kept. */
    public static Mask dense(Weights weights, Set<String> prunable) {
        Map<String, boolean[]> all = new LinkedHashMap<>();
        for (String name : prunable) {
            boolean[] bits = new boolean[weights.get(name).size()];
            Arrays.fill(bits, true);
            all.put(name, bits);
        }
        return new Mask(all);
    }

    public Set<String> tensorNames() {
        return Collections.unmodifiableSet(kept.keySet());
    }

    /** A read-only view's copy of one tensor's bits. */
    public boolean[] bits(String name) {
        boolean[] bits = kept.get(name);
        if (bits == null) {
            throw new IllegalArgumentException("mask has no tensor " + name);
        }
        return bits.clone();
    }

    boolean[] bitsUnsafe(String name) {
        return kept.get(name);
    }

    public boolean covers(String name) {
        return kept.containsKey(name);
    }

    public long size() {
        return kept.values().stream().mapToLong(b -> b.length).sum();
    }

    public long prunedCount() {
        long pruned = 0;
        for (boolean[] bits : kept.values()) {
            for (boolean b : bits) {
                if (!b) {
                    pruned++;
                }
            }
        }
        return pruned;
    }

    /** Fraction of masked elements that are pruned. */
    public double sparsity() {
        long n = size();
        return n == 0 ? 0.0 : (double) prunedCount() / n;
    }

    /** Elements kept by both masks (COLT's intersection; also used to keep masks monotone). */
    public Mask intersect(Mask other) {
        if (!kept.keySet().equals(other.kept.keySet())) {
            throw new IllegalArgumentException("masks cover different tensors: " + kept.keySet() + " vs " + other.kept.keySet());
        }
        Map<String, boolean[]> both = new LinkedHashMap<>();
        kept.forEach((name, bits) -> {
            boolean[] o = other.kept.get(name);
            boolean[] r = new boolean[bits.length];
            for (int i = 0; i < bits.length; i++) {
                r[i] = bits[i] && o[i];
            }
            both.put(name, r);
        });
        return new Mask(both);
    }

    /** The part of this mask over the named tensors only. */
    public Mask restrictTo(Set<String> names) {
        Map<String, boolean[]> part = new LinkedHashMap<>();
        kept.forEach((name, bits) -> {
            if (names.contains(name)) {
                part.put(name, bits);
            }
        });
        return new Mask(part);
    }

    /** Whether every element this mask prunes is exactly zero (either sign) in {@code weights}. */
    public boolean holds(Weights weights) {
        for (Map.Entry<String, boolean[]> entry : kept.entrySet()) {
            boolean[] bits = entry.getValue();
            float[] values = weights.get(entry.getKey()).values();
            for (int i = 0; i < bits.length; i++) {
                if (!bits[i] && values[i] != 0f) {
                    return false;
                }
            }
        }
        return true;
    }

    /** The weights with pruned elements set to exactly zero. */
    public Weights apply(Weights weights) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        weights.tensors().forEach((name, t) -> {
            boolean[] bits = kept.get(name);
            if (bits == null) {
                out.put(name, t);
            } else {
                float[] v = t.values().clone();
                for (int i = 0; i < v.length; i++) {
                    if (!bits[i]) {
                        v[i] = 0f;
                    }
                }
                out.put(name, new Tensor(t.shape(), v));
            }
        });
        return new Weights(out);
    }

    /**
     * The weights (or momentum buffers) with the elements this mask keeps and {@code before}
     * pruned set to zero: connections a mask update makes active start from zero. Tensors
     * {@code before} lacks count as dense before.
     */
    public Weights zeroActivated(Mask before, Weights weights) {
        Map<String, Tensor> out = new LinkedHashMap<>(weights.tensors());
        kept.forEach((name, bits) -> {
            boolean[] old = before.kept.get(name);
            Tensor t = weights.tensors().get(name);
            if (old == null || t == null) {
                return;
            }
            float[] v = null;
            for (int i = 0; i < bits.length; i++) {
                if (bits[i] && !old[i]) {
                    v = v == null ? t.values().clone() : v;
                    v[i] = 0f;
                }
            }
            if (v != null) {
                out.put(name, new Tensor(t.shape(), v));
            }
        });
        return new Weights(out);
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof Mask m) || !kept.keySet().equals(m.kept.keySet())) {
            return false;
        }
        for (Map.Entry<String, boolean[]> e : kept.entrySet()) {
            if (!Arrays.equals(e.getValue(), m.kept.get(e.getKey()))) {
                return false;
            }
        }
        return true;
    }

    @Override
    public int hashCode() {
        int h = kept.keySet().hashCode();
        for (boolean[] bits : kept.values()) {
            h = 31 * h + Arrays.hashCode(bits);
        }
        return h;
    }

    @Override
    public String toString() {
        return String.format("Mask[%d tensors, sparsity %.4f]", kept.size(), sparsity());
    }
}
