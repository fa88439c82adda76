package org.sparsetransfer.core.model;

import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Blocks;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.nn.pooling.Pool;
import java.util.Map;

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
        return build(numClasses, new ReferenceNames());
    }

    /**
     * Keys in the layout of Intel Distiller's {@code models/mobilenet.py}, the MobileNet of the
     * study's code (sparse-imagenet-transfer): {@code model.0.0} the stem conv and
     * {@code model.0.1} its BatchNorm; for block N (1 to 13) {@code model.N.0} the depthwise conv,
     * {@code model.N.1} its BatchNorm, {@code model.N.3} the pointwise conv, {@code model.N.4} its
     * BatchNorm; then {@code fc}.
     */
    @Override
    public Map<String, String> referenceKeys(int numClasses) {
        ReferenceNames names = new ReferenceNames();
        return names.keys(build(numClasses, names).model());
    }

    @Override
    public String referenceLayout() {
        return "Distiller's MobileNet (the study's)";
    }

    private Classifier build(int numClasses, ReferenceNames names) {
        SequentialBlock backbone = new SequentialBlock().add(names.named(Layers.conv(32, 3, 2, 1), "model.0.0"))
                .add(names.named(Layers.batchNorm(), "model.0.1")).add(Activation::relu);
        int in = 32;
        for (int b = 0; b < BLOCKS.length; b++) {
            int[] block = BLOCKS[b];
            String prefix = "model." + (b + 1);
            backbone.add(names.named(Layers.conv(in, 3, block[1], in), prefix + ".0")) // depthwise
                    .add(names.named(Layers.batchNorm(), prefix + ".1")).add(Activation::relu)
                    .add(names.named(Layers.conv(block[0], 1, 1, 1), prefix + ".3")) // pointwise
                    .add(names.named(Layers.batchNorm(), prefix + ".4")).add(Activation::relu);
            in = block[0];
        }
        backbone.add(Pool.globalAvgPool2dBlock()).add(Blocks.batchFlattenBlock());
        SequentialBlock model = new SequentialBlock().add(backbone).add(names.named(Linear.builder().setUnits(numClasses).build(), "fc"));
        return new Classifier(model, backbone);
    }
}
