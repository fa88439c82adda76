package org.sparsetransfer.core.model;

import ai.djl.ndarray.types.Shape;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.norm.BatchNorm;

/** The convolution and BatchNorm of the RGB models, configured as PyTorch's are. */
final class Layers {
    private Layers() {}

    /** A bias-free k x k convolution with "same" padding; {@code groups} = input channels makes it depthwise. */
    static Conv2d conv(int filters, int kernel, int stride, int groups) {
        return Conv2d.builder().setFilters(filters).setKernelShape(new Shape(kernel, kernel)).optStride(new Shape(stride, stride))
                .optPadding(new Shape(kernel / 2, kernel / 2)).optGroups(groups).optBias(false).build();
    }

    /** PyTorch's defaults: eps 1e-5, running statistics updated with momentum 0.1 (DJL counts it as 0.9 kept). */
    static BatchNorm batchNorm() {
        return BatchNorm.builder().optEpsilon(1e-5f).optMomentum(0.9f).build();
    }
}
