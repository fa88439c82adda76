package org.sparsetransfer.core.model;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.Blocks;
import ai.djl.nn.ParallelBlock;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.BatchNorm;
import ai.djl.nn.pooling.Pool;
import java.util.List;
import java.util.Map;

/**
 * ResNet in torchvision's layout ("v1.5": the stride of a bottleneck sits on its 3x3 conv):
 * a 7x7/2 stem with max pooling, four stages of basic (ResNet-18) or bottleneck (ResNet-50)
 * blocks with 1x1-conv + BatchNorm shortcuts where the shape changes, global average pooling
 * (the backbone: 512 or 2048 features) and a linear head. Convolutions have no bias, as in
 * torchvision, so with 1000 classes ResNet-18 has 11,689,512 learnable parameters and ResNet-50
 * 25,557,032 (BatchNorm running statistics are stored but not counted). Every parameter has a
 * torchvision state-dict key ({@link #referenceKeys}) for importing pretrained weights.
 */
public final class ResNet implements Architecture {
    private final String name;
    private final int[] blocks;
    private final boolean bottleneck;
    private final int side;

    private ResNet(String name, int[] blocks, boolean bottleneck, int side) {
        this.name = name;
        this.blocks = blocks;
        this.bottleneck = bottleneck;
        this.side = side;
    }

    /** ResNet-18 for {@code side} x {@code side} RGB inputs (224 for ImageNet, 32 for CIFAR). */
    public static ResNet resnet18(int side) {
        return new ResNet("resnet18", new int[] {2, 2, 2, 2}, false, side);
    }

    /** ResNet-50 for {@code side} x {@code side} RGB inputs. */
    public static ResNet resnet50(int side) {
        return new ResNet("resnet50", new int[] {3, 4, 6, 3}, true, side);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public Shape inputShape(long batch) {
        return new Shape(batch, 3, side, side);
    }

    /** Width of the features the backbone outputs. */
    public int features() {
        return 512 * (bottleneck ? 4 : 1);
    }

    @Override
    public Classifier classifier(int numClasses) {
        return build(numClasses, new ReferenceNames());
    }

    /**
     * For each parameter name of {@code classifier(numClasses)}'s model, its key in a torchvision
     * ResNet's {@code state_dict()} (e.g. {@code layer1.0.conv1.weight}, {@code bn1.running_mean},
     * {@code fc.bias}).
     */
    @Override
    public Map<String, String> referenceKeys(int numClasses) {
        ReferenceNames names = new ReferenceNames();
        return names.keys(build(numClasses, names).model());
    }

    @Override
    public String referenceLayout() {
        return "torchvision";
    }

    private Classifier build(int numClasses, ReferenceNames prefixes) {
        SequentialBlock backbone = new SequentialBlock()
                .add(named(conv(64, 7, 2), "conv1", prefixes))
                .add(named(batchNorm(), "bn1", prefixes))
                .add(Activation::relu)
                .add(Pool.maxPool2dBlock(new Shape(3, 3), new Shape(2, 2), new Shape(1, 1)));
        int in = 64;
        for (int stage = 0; stage < 4; stage++) {
            int width = 64 << stage;
            for (int b = 0; b < blocks[stage]; b++) {
                int stride = b == 0 && stage > 0 ? 2 : 1;
                String prefix = "layer" + (stage + 1) + "." + b;
                int out = width * (bottleneck ? 4 : 1);
                backbone.add(residual(in, width, out, stride, prefix, prefixes));
                in = out;
            }
        }
        backbone.add(Pool.globalAvgPool2dBlock()).add(Blocks.batchFlattenBlock());
        SequentialBlock model = new SequentialBlock()
                .add(backbone)
                .add(named(Linear.builder().setUnits(numClasses).build(), "fc", prefixes));
        return new Classifier(model, backbone);
    }

    private Block residual(int in, int width, int out, int stride, String prefix, ReferenceNames prefixes) {
        SequentialBlock main = new SequentialBlock();
        if (bottleneck) {
            main.add(named(conv(width, 1, 1), prefix + ".conv1", prefixes)).add(named(batchNorm(), prefix + ".bn1", prefixes))
                    .add(Activation::relu)
                    .add(named(conv(width, 3, stride), prefix + ".conv2", prefixes)).add(named(batchNorm(), prefix + ".bn2", prefixes))
                    .add(Activation::relu)
                    .add(named(conv(out, 1, 1), prefix + ".conv3", prefixes)).add(named(batchNorm(), prefix + ".bn3", prefixes));
        } else {
            main.add(named(conv(width, 3, stride), prefix + ".conv1", prefixes)).add(named(batchNorm(), prefix + ".bn1", prefixes))
                    .add(Activation::relu)
                    .add(named(conv(out, 3, 1), prefix + ".conv2", prefixes)).add(named(batchNorm(), prefix + ".bn2", prefixes));
        }
        Block shortcut = stride == 1 && in == out ? Blocks.identityBlock()
                : new SequentialBlock()
                        .add(named(conv(out, 1, stride), prefix + ".downsample.0", prefixes))
                        .add(named(batchNorm(), prefix + ".downsample.1", prefixes));
        return new SequentialBlock()
                .add(new ParallelBlock(branches -> new NDList(branches.get(0).singletonOrThrow().add(branches.get(1).singletonOrThrow())),
                        List.of(main, shortcut)))
                .add(Activation::relu);
    }

    private static Block named(Block block, String prefix, ReferenceNames prefixes) {
        return prefixes.named(block, prefix);
    }

    private static Conv2d conv(int filters, int kernel, int stride) {
        return Layers.conv(filters, kernel, stride, 1);
    }

    private static BatchNorm batchNorm() {
        return Layers.batchNorm();
    }
}
