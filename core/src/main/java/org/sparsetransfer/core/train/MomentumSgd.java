package org.sparsetransfer.core.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.sparsetransfer.core.model.Network;
import org.sparsetransfer.core.model.Tensor;
import org.sparsetransfer.core.model.Weights;

/**
 * SGD with momentum computed exactly as DJL's {@code Sgd} computes it (the same fused libtorch
 * update, so runs are bit-identical to it), whose momentum buffers can be read out and seeded.
 * Data-parallel rounds carry the workers' averaged momentum into the next round instead of
 * restarting it at zero, which costs several points of accuracy at short rounds. Written here
 * because DJL's {@code Sgd} keeps its buffers private.
 */
final class MomentumSgd extends Optimizer {
    private final Tracker learningRate;
    private final float momentum;
    /** Momentum buffer by DJL parameter id. */
    private final Map<String, NDArray> states = new ConcurrentHashMap<>();

    MomentumSgd(Tracker learningRate, float momentum, float weightDecay) {
        super(new Builder().optWeightDecays(weightDecay));
        this.learningRate = learningRate;
        this.momentum = momentum;
    }

    @Override
    public void update(String parameterId, NDArray weight, NDArray grad) {
        float lr = learningRate.getNewValue(parameterId, updateCount(parameterId));
        NDList inputs = momentum == 0f ? new NDList(weight, grad)
                : new NDList(weight, grad, states.computeIfAbsent(parameterId, k -> weight.zerosLike()));
        weight.getNDArrayInternal().sgdUpdate(inputs, new NDList(weight), lr, getWeightDecay(), rescaleGrad, clipGrad,
                momentum, true);
    }

    /** Starts {@code network}'s parameters from the given momentum buffers (by parameter name). */
    void seed(Network network, Weights buffers) {
        for (Map.Entry<String, Parameter> e : network.parameters().entrySet()) {
            if (buffers.tensors().containsKey(e.getKey())) {
                Tensor t = buffers.get(e.getKey());
                states.put(e.getValue().getId(), network.manager().create(t.values(), new Shape(t.shape())));
            }
        }
    }

    /** The momentum buffers of {@code network}'s parameters that have one, by parameter name. */
    Weights buffers(Network network) {
        Map<String, Tensor> buffers = new LinkedHashMap<>();
        for (Map.Entry<String, Parameter> e : network.parameters().entrySet()) {
            NDArray state = states.get(e.getValue().getId());
            if (state != null) {
                buffers.put(e.getKey(), new Tensor(state.getShape().getShape(), state.toFloatArray()));
            }
        }
        return new Weights(buffers);
    }

    private static final class Builder extends OptimizerBuilder<Builder> {
        @Override
        protected Builder self() {
            return this;
        }
    }
}
