package org.sparsetransfer.core.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.training.loss.Loss;
import org.sparsetransfer.core.model.Network;

/** What a training step minimizes. */
public interface Objective {
    /** Anything computed from the inputs without recording gradients (e.g. a teacher's logits); null if unused. */
    default NDArray targets(NDArray inputs) {
        return null;
    }

    /** The mean loss of a batch. */
    NDArray loss(NDArray logits, NDArray labels, NDArray targets);

    /** Softmax cross-entropy against the labels. */
    static Objective crossEntropy() {
        Loss ce = Loss.softmaxCrossEntropyLoss();
        return (logits, labels, targets) -> ce.evaluate(new NDList(labels), new NDList(logits));
    }

    /**
     * Knowledge distillation (Hinton et al.): (1 - hardness) * CE(labels) + hardness * T^2 *
     * KL(softmax(teacher / T) || softmax(student / T)). The teacher runs in inference mode.
     */
    static Objective distillation(Network teacher, float hardness, float temperature) {
        Loss ce = Loss.softmaxCrossEntropyLoss();
        return new Objective() {
            @Override
            public NDArray targets(NDArray inputs) {
                return teacher.forward(inputs, false).stopGradient();
            }

            @Override
            public NDArray loss(NDArray logits, NDArray labels, NDArray teacherLogits) {
                NDArray hard = ce.evaluate(new NDList(labels), new NDList(logits));
                NDArray teacherProbs = teacherLogits.div(temperature).softmax(1);
                NDArray studentLogProbs = logits.div(temperature).logSoftmax(1);
                NDArray kl = teacherProbs.mul(teacherProbs.add(1e-12f).log().sub(studentLogProbs)).sum(new int[] {1}).mean();
                return hard.mul(1f - hardness).add(kl.mul(hardness * temperature * temperature));
            }
        };
    }
}
