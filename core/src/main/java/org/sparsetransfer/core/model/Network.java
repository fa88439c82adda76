package org.sparsetransfer.core.model;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.util.Pair;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import org.sparsetransfer.core.prune.Mask;

/**
 * A DJL block with its parameters, owned together with the {@link NDManager} that holds them:
 * closing the network frees every native array it made. Optionally exposes a feature
 * extractor (the backbone) for linear transfer.
 */
public final class Network implements AutoCloseable {
    private final NDManager manager;
    private final Block block;
    private final Block featureBlock;
    private final ParameterStore store;
    private final Map<String, Parameter> parameters = new LinkedHashMap<>();
    private final Set<String> featureParameters = new LinkedHashSet<>();
    private final Map<String, NDArray> maskArrays = new LinkedHashMap<>();
    private Mask mask;

    private Network(NDManager manager, Block block, Block featureBlock) {
        this.manager = manager;
        this.block = block;
        this.featureBlock = featureBlock;
        this.store = new ParameterStore(manager, false);
        Set<Parameter> inFeatures = Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        if (featureBlock != null) {
            featureBlock.getParameters().values().forEach(inFeatures::add);
        }
        for (Pair<String, Parameter> p : block.getParameters()) {
            parameters.put(p.getKey(), p.getValue());
            if (inFeatures.contains(p.getValue())) {
                featureParameters.add(p.getKey());
            }
        }
    }

    /**
     * Initializes {@code block} for inputs of {@code inputShape} (batch dimension included) with
     * the engine seeded by {@code seed}, so that the same seed gives the same initial weights.
     *
     * @param featureBlock a child of {@code block} whose output is the penultimate features, or null
     */
    public static Network create(Block block, Block featureBlock, Shape inputShape, long seed, Device device) {
        NDManager manager = NDManager.newBaseManager(device);
        try {
            Engine.getInstance().setRandomSeed((int) (seed ^ (seed >>> 32)));
            block.initialize(manager, DataType.FLOAT32, inputShape);
            return new Network(manager, block, featureBlock);
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    /** Builds an architecture's classifier for {@code numClasses}. */
    public static Network classifier(Architecture architecture, int numClasses, long seed, Device device) {
        Architecture.Classifier c = architecture.classifier(numClasses);
        return create(c.model(), c.backbone(), architecture.inputShape(1), seed, device);
    }

    public NDManager manager() {
        return manager;
    }

    public Device device() {
        return manager.getDevice();
    }

    public NDArray forward(NDArray input, boolean training) {
        return block.forward(store, new NDList(input), training).singletonOrThrow();
    }

    public NDArray features(NDArray input) {
        if (featureBlock == null) {
            throw new IllegalStateException("this network has no feature extractor");
        }
        return featureBlock.forward(store, new NDList(input), false).singletonOrThrow();
    }

    public Map<String, Parameter> parameters() {
        return Collections.unmodifiableMap(parameters);
    }

    /** Learnable parameters (what torchvision counts): BatchNorm running statistics are stored, not learned. */
    public long learnableParameters() {
        return parameters.values().stream().filter(Parameter::requiresGradient).mapToLong(p -> p.getArray().size()).sum();
    }

    /** Whether the named parameter belongs to the feature extractor (not the head). */
    public boolean isFeatureParameter(String name) {
        return featureParameters.contains(name);
    }

    /** Names of the weight tensors the magnitude criterion may prune, by the given policy. */
    public Set<String> prunableTensors(PrunablePolicy policy) {
        List<String> weights = new ArrayList<>();
        parameters.forEach((name, p) -> {
            if (p.getType() == Parameter.Type.WEIGHT && p.getArray().getShape().dimension() >= 2) {
                weights.add(name);
            }
        });
        Set<String> prunable = new LinkedHashSet<>(weights);
        if (!policy.pruneFirstLayer() && !weights.isEmpty()) {
            prunable.remove(weights.get(0));
        }
        if (!policy.pruneHead() && weights.size() > 1) {
            prunable.remove(weights.get(weights.size() - 1));
        }
        return prunable;
    }

    /** A copy of every parameter's values. */
    public Weights weights() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        parameters.forEach((name, p) -> {
            NDArray a = p.getArray();
            out.put(name, new Tensor(a.getShape().getShape(), a.toFloatArray()));
        });
        return new Weights(out);
    }

    /** Copies the selected tensors of {@code weights} into this network's parameters. */
    public void load(Weights weights, Predicate<String> include) {
        TorchThreads.disableGrad();
        parameters.forEach((name, p) -> {
            if (include.test(name)) {
                Tensor t = weights.get(name);
                NDArray a = p.getArray();
                if (!a.getShape().equals(new Shape(t.shape()))) {
                    throw new IllegalArgumentException("tensor " + name + " has shape " + new Shape(t.shape())
                            + " but the network expects " + a.getShape());
                }
                a.set(FloatBuffer.wrap(t.values()));
            }
        });
    }

    /** Sets the mask that {@link #applyMask()} enforces, and enforces it now. */
    public void setMask(Mask newMask) {
        TorchThreads.disableGrad();
        maskArrays.values().forEach(NDArray::close);
        maskArrays.clear();
        mask = newMask;
        if (newMask != null) {
            for (String name : newMask.tensorNames()) {
                Parameter p = parameters.get(name);
                if (p == null) {
                    throw new IllegalArgumentException("mask names tensor " + name + " that this network lacks");
                }
                boolean[] bits = newMask.bits(name);
                float[] ones = new float[bits.length];
                for (int i = 0; i < bits.length; i++) {
                    ones[i] = bits[i] ? 1f : 0f;
                }
                maskArrays.put(name, manager.create(ones, p.getArray().getShape()));
            }
        }
        applyMask();
    }

    public Mask mask() {
        return mask;
    }

    /**
     * Zeroes every pruned element (after each optimizer step, so pruned weights stay exactly 0).
     * Needs grad mode off on this thread: {@link #setMask} and the training loop turn it off once,
     * not on every step.
     */
    public void applyMask() {
        maskArrays.forEach((name, m) -> parameters.get(name).getArray().muli(m));
    }

    @Override
    public void close() {
        maskArrays.values().forEach(NDArray::close);
        manager.close();
    }
}
