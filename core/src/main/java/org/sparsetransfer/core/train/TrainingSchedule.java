package org.sparsetransfer.core.train;

import java.util.OptionalDouble;

/**
 * What happens at each optimizer step of a run: the learning rate, and whether the mask is
 * recomputed to a new sparsity before the step. Dense training, fine-tuning with a fixed mask
 * and every pruning schedule are instances, so one training loop serves them all.
 */
public interface TrainingSchedule {
    int totalSteps();

    float learningRate(int step);

    /** The sparsity to prune to just before {@code step}, if that step is a pruning step. */
    default OptionalDouble pruneBefore(int step) {
        return OptionalDouble.empty();
    }

    /**
     * Optimizer steps in one epoch of {@code examples} examples at batch {@code batch}: full
     * batches only (the last partial batch of a pass is dropped, like a DataLoader with
     * drop_last=True), at least one.
     */
    static int stepsPerEpoch(long examples, int batch) {
        long perBatch = Math.min(batch, Math.max(1, examples));
        return (int) Math.max(1, Math.min(Integer.MAX_VALUE, examples / perBatch));
    }

    /** A schedule with no pruning steps. */
    static TrainingSchedule fixedMask(int steps, LearningRate lr) {
        return new TrainingSchedule() {
            @Override
            public int totalSteps() {
                return steps;
            }

            @Override
            public float learningRate(int step) {
                return lr.at(step, steps);
            }
        };
    }

    /** A schedule with no pruning steps and the given learning rate at each step. */
    static TrainingSchedule ofRates(float[] learningRates) {
        float[] rates = learningRates.clone();
        return new TrainingSchedule() {
            @Override
            public int totalSteps() {
                return rates.length;
            }

            @Override
            public float learningRate(int step) {
                return rates[step];
            }
        };
    }

    /** Learning rate as a function of step and run length. */
    @FunctionalInterface
    interface LearningRate {
        float at(int step, int totalSteps);

        /** Linear decay from {@code max} at step 0 to {@code min} at the last step (never past it: float rounding could make a rate of 0 negative). */
        static LearningRate linear(float max, float min) {
            float low = Math.min(max, min);
            float high = Math.max(max, min);
            return (step, total) -> total <= 1 ? max : Math.max(low, Math.min(high, max + (min - max) * step / (float) (total - 1)));
        }

        /** {@code base}, multiplied by {@code factor} from each listed step on (PyTorch's MultiStepLR). */
        static LearningRate multiStep(float base, float factor, int... milestones) {
            int[] at = milestones.clone();
            return (step, total) -> {
                float lr = base;
                for (int m : at) {
                    if (step >= m) {
                        lr *= factor;
                    }
                }
                return lr;
            };
        }

        /** {@code base}, multiplied by {@code factor} at each listed fraction of the run. */
        static LearningRate stepDecay(float base, float factor, double... atFractions) {
            return (step, total) -> {
                float lr = base;
                for (double f : atFractions) {
                    if (step >= f * total) {
                        lr *= factor;
                    }
                }
                return lr;
            };
        }
    }
}
