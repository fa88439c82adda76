package org.sparsetransfer.core.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import java.util.Set;
import org.junit.jupiter.api.Test;

class NetworkTest {
    @Test
    void smallCnnHasTheDocumentedParameterCounts() {
        try (Network net = Network.classifier(new SmallCnn(), 10, 0, Device.cpu())) {
            Weights w = net.weights();
            assertEquals(206_922, w.parameterCount());
            Set<String> prunable = net.prunableTensors(PrunablePolicy.DEFAULT);
            assertEquals(2, prunable.size());
            assertEquals(205_312, prunable.stream().mapToLong(n -> w.get(n).size()).sum());
            assertEquals(4, net.prunableTensors(new PrunablePolicy(true, true)).size());
        }
    }

    @Test
    void seedsFixTheInitialWeightsAndLoadCopiesThem() {
        try (Network a = Network.classifier(new SmallCnn(), 10, 5, Device.cpu());
                Network b = Network.classifier(new SmallCnn(), 10, 5, Device.cpu());
                Network c = Network.classifier(new SmallCnn(), 10, 6, Device.cpu())) {
            assertEquals(a.weights(), b.weights());
            assertNotEquals(a.weights(), c.weights());
            c.load(a.weights(), name -> true);
            assertEquals(a.weights(), c.weights());
        }
    }

    @Test
    void featuresAreThePenultimateLayer() {
        try (Network net = Network.classifier(new SmallCnn(), 3, 0, Device.cpu())) {
            NDArray x = net.manager().zeros(new SmallCnn().inputShape(4));
            assertEquals(new ai.djl.ndarray.types.Shape(4, SmallCnn.FEATURES), net.features(x).getShape());
            assertEquals(new ai.djl.ndarray.types.Shape(4, 3), net.forward(x, false).getShape());
        }
    }
}
