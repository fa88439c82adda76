package org.sparsetransfer.jobs.bench;

import ai.djl.Device;
import java.util.Set;
import org.sparsetransfer.core.model.Architecture;
import org.sparsetransfer.core.model.Network;
import org.sparsetransfer.core.model.PrunablePolicy;
import org.sparsetransfer.core.model.TorchThreads;
import org.sparsetransfer.core.model.Weights;
import org.sparsetransfer.core.model.ResNet;

/** A freshly initialized model's weights and its prunable tensors: the input of the pruning and checkpoint benchmarks. */
record ModelWeights(String model, Weights weights, Set<String> prunableDefault, Set<String> prunableAll) {

    /** ResNet-50 at 224 with 1000 classes; ResNet-18 at 32 for {@code --quick}. */
    static ModelWeights resnet(boolean quick) throws Exception {
        Architecture architecture = quick ? ResNet.resnet18(32) : ResNet.resnet50(224);
        return TorchThreads.exclusive(() -> {
            try (Network net = Network.classifier(architecture, 1000, 0, Device.cpu())) {
                return new ModelWeights(architecture.name(), net.weights(), net.prunableTensors(PrunablePolicy.DEFAULT),
                        net.prunableTensors(new PrunablePolicy(true, true)));
            }
        });
    }

    long count(Set<String> tensors) {
        return tensors.stream().mapToLong(t -> weights.get(t).size()).sum();
    }
}
