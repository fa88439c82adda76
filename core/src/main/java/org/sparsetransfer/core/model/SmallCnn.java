package org.sparsetransfer.core.model;

import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Blocks;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.nn.pooling.Pool;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The demo's CNN for 1x28x28 inputs:
 * conv3x3(16) - ReLU - maxpool2 - conv3x3(32) - ReLU - maxpool2 - flatten(1568) - linear(128) - ReLU
 * (the backbone, 128 features) then linear(numClasses) (the head). With 10 classes it has
 * 206,922 parameters, 205,312 of them prunable by default (conv2 and fc1 weights).
 */
public final class SmallCnn implements Architecture {
    public static final int SIDE = 28;
    public static final int FEATURES = 128;

    @Override
    public String name() {
        return "small_cnn";
    }

    @Override
    public Shape inputShape(long batch) {
        return new Shape(batch, 1, SIDE, SIDE);
    }

    @Override
    public Classifier classifier(int numClasses) {
        SequentialBlock backbone = new SequentialBlock()
                .add(conv(16))
                .add(Activation::relu)
                .add(Pool.maxPool2dBlock(new Shape(2, 2), new Shape(2, 2)))
                .add(conv(32))
                .add(Activation::relu)
                .add(Pool.maxPool2dBlock(new Shape(2, 2), new Shape(2, 2)))
                .add(Blocks.batchFlattenBlock())
                .add(Linear.builder().setUnits(FEATURES).build())
                .add(Activation::relu);
        SequentialBlock model = new SequentialBlock()
                .add(backbone)
                .add(Linear.builder().setUnits(numClasses).build());
        return new Classifier(model, backbone);
    }

    /** The project's own parameter names: the model has no reference implementation elsewhere. */
    @Override
    public Map<String, String> referenceKeys(int numClasses) {
        Map<String, String> keys = new LinkedHashMap<>();
        classifier(numClasses).model().getParameters().keys().forEach(name -> keys.put(name, name));
        return keys;
    }

    @Override
    public String referenceLayout() {
        return "sparse-transfer's own parameter names";
    }

    private static Conv2d conv(int filters) {
        return Conv2d.builder().setKernelShape(new Shape(3, 3)).optPadding(new Shape(1, 1)).setFilters(filters).build();
    }
}
