package org.sparsetransfer.core.model;

import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Blocks;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.nn.pooling.Pool;

/**
 * MobileNet v1 (Howard et al. 2017, width 1.0): a 3x3/2 stem of 32 filters, then 13
 * depthwise-separable blocks (3x3 depthwise conv + BatchNorm + ReLU, 1x1 pointwise conv +
 * BatchNorm + ReLU) widening to 1024 with five stride-2 blocks, global average pooling (the
 * backbone: 1024 features) and a linear head. Convolutions have no bias, so with 1000 classes it
 * has 4,231,976 learnable parameters, the count of the reference (Keras) implementation.
 */
public final class MobileNetV1 implements Architecture {
    /** Output channels and stride of each depthwise-separable block. */
    private static final int[][] BLOCKS = {
        {64, 1}, {128, 2}, {128, 1}, {256, 2}, {256, 1}, {512, 2},
        {512, 1}, {512, 1}, {512, 1}, {512, 1}, {512, 1}, {1024, 2}, {1024, 1}};

    private final int side;

    public MobileNetV1(int side) {
        this.side = side;
    }

    @Override
    public String name() {
        return "mobilenet_v1";
    }

    @Override
    public Shape inputShape(long batch) {
        return new Shape(batch, 3, side, side);
    }

    @Override
    public Classifier classifier(int numClasses) {
        SequentialBlock backbone = new SequentialBlock().add(Layers.conv(32, 3, 2, 1)).add(Layers.batchNorm()).add(Activation::relu);
        int in = 32;
        for (int[] block : BLOCKS) {
            backbone.add(Layers.conv(in, 3, block[1], in)).add(Layers.batchNorm()).add(Activation::relu) // depthwise
                    .add(Layers.conv(block[0], 1, 1, 1)).add(Layers.batchNorm()).add(Activation::relu); // pointwise
            in = block[0];
        }
        backbone.add(Pool.globalAvgPool2dBlock()).add(Blocks.batchFlattenBlock());
        SequentialBlock model = new SequentialBlock().add(backbone).add(Linear.builder().setUnits(numClasses).build());
        return new Classifier(model, backbone);
    }
}
