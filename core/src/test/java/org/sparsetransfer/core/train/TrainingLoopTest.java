package org.sparsetransfer.core.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.sparsetransfer.core.Synthetic;
import org.sparsetransfer.core.data.ImageSet;
import org.sparsetransfer.core.model.Network;
import org.sparsetransfer.core.model.PrunablePolicy;
import org.sparsetransfer.core.model.SmallCnn;
import org.sparsetransfer.core.model.TorchThreads;
import org.sparsetransfer.core.model.Weights;
import org.sparsetransfer.core.prune.GmpSchedule;
import org.sparsetransfer.core.prune.MagnitudePruner;
import org.sparsetransfer.core.prune.Mask;

class TrainingLoopTest {
    private final ImageSet train = Synthetic.squares("train", 600, 9, 1, 0);
    private final ImageSet test = Synthetic.squares("test", 300, 9, 2, 0);
    private final TrainingLoop loop = new TrainingLoop(new TrainingLoop.Settings(32, 0.9f, 5e-4f, 0), TrainingLoop.Progress.SILENT);

    @Test
    void accuracyRisesFromChance() throws Exception {
        TorchThreads.exclusive(() -> {
            try (Network net = Network.classifier(new SmallCnn(), 9, 0, Device.cpu());
                    TrainingData trainData = TrainingData.upload(net.manager(), train);
                    TrainingData testData = TrainingData.upload(net.manager(), test)) {
                double before = Evaluator.evaluate(net, testData).top1();
                loop.run(net, trainData, TrainingSchedule.fixedMask(80, TrainingSchedule.LearningRate.linear(0.05f, 0f)), null);
                double after = Evaluator.evaluate(net, testData).top1();
                assertTrue(before < 0.3, "untrained accuracy " + before);
                assertTrue(after > 0.9, "trained accuracy " + after);
            }
            return null;
        });
    }

    @Test
    void gmpReachesTheExactTargetAndPrunedWeightsStayZero() throws Exception {
        TorchThreads.exclusive(() -> {
            try (Network net = Network.classifier(new SmallCnn(), 9, 0, Device.cpu());
                    TrainingData trainData = TrainingData.upload(net.manager(), train)) {
                Set<String> prunable = net.prunableTensors(PrunablePolicy.DEFAULT);
                net.setMask(Mask.dense(net.weights(), prunable));
                GmpSchedule gmp = GmpSchedule.star(0.9).pruningSteps(3).interval(10).recoverySteps(20).learningRate(0.05f, 0f).build();
                loop.run(net, trainData, gmp, new MagnitudePruner(MagnitudePruner.Scope.GLOBAL));
                Mask mask = net.mask();
                assertEquals(Math.round(0.9 * mask.size()), mask.prunedCount());
                assertPrunedAreZero(net.weights(), mask);
                // Fine-tuning with the mask fixed keeps the same zeros.
                loop.run(net, trainData, TrainingSchedule.fixedMask(20, TrainingSchedule.LearningRate.linear(0.05f, 0f)), null);
                assertEquals(mask, net.mask());
                assertPrunedAreZero(net.weights(), mask);
            }
            return null;
        });
    }

    private static void assertPrunedAreZero(Weights weights, Mask mask) {
        for (String name : mask.tensorNames()) {
            float[] v = weights.get(name).values();
            boolean[] kept = mask.bits(name);
            for (int i = 0; i < v.length; i++) {
                if (!kept[i]) {
                    assertTrue(v[i] == 0f, name + "[" + i + "] was pruned but is " + v[i]); // -0.0 is zero too
                }
            }
        }
    }

    @Test
    void divergenceIsReportedNotHidden() throws Exception {
        TorchThreads.exclusive(() -> {
            try (Network net = Network.classifier(new SmallCnn(), 9, 0, Device.cpu());
                    TrainingData trainData = TrainingData.upload(net.manager(), train)) {
                TrainingDivergedException e = assertThrows(TrainingDivergedException.class, () ->
                        loop.run(net, trainData, TrainingSchedule.fixedMask(50, (step, total) -> 1e6f), null));
                assertTrue(e.getMessage().contains("diverged"));
            }
            return null;
        });
    }
}
