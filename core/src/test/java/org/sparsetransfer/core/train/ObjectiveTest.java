package org.sparsetransfer.core.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import org.junit.jupiter.api.Test;
import org.sparsetransfer.core.model.Network;
import org.sparsetransfer.core.model.SmallCnn;

class ObjectiveTest {
    @Test
    void distillationMixesHardAndSoftLosses() {
        try (Network teacher = Network.classifier(new SmallCnn(), 3, 0, Device.cpu()); NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.randomNormal(new SmallCnn().inputShape(8));
            NDArray labels = m.create(new long[] {0, 1, 2, 0, 1, 2, 0, 1});
            NDArray teacherLogits = teacher.forward(x, false);
            float ce = Objective.crossEntropy().loss(teacherLogits, labels, null).getFloat();

            Objective hardOnly = Objective.distillation(teacher, 0f, 2f);
            assertEquals(ce, hardOnly.loss(teacherLogits, labels, hardOnly.targets(x)).getFloat(), 1e-6);

            Objective softOnly = Objective.distillation(teacher, 1f, 2f);
            assertEquals(0f, softOnly.loss(teacherLogits, labels, softOnly.targets(x)).getFloat(), 1e-5,
                    "a student that matches its teacher has zero KL");
            NDArray other = teacherLogits.mul(-1);
            assertTrue(softOnly.loss(other, labels, softOnly.targets(x)).getFloat() > 0.01);
        }
    }
}
