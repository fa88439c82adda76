package org.sparsetransfer.core.prune;

import java.util.OptionalDouble;
import org.sparsetransfer.core.train.TrainingSchedule;

/** One-shot magnitude pruning to the target before the first step, then fine-tuning with the mask fixed. */
public record OneShotSchedule(double sparsity, int finetuneSteps, TrainingSchedule.LearningRate lr)
        implements TrainingSchedule {

    @Override
    public int totalSteps() {
        return Math.max(1, finetuneSteps);
    }

    @Override
    public float learningRate(int step) {
        return lr.at(step, totalSteps());
    }

    @Override
    public OptionalDouble pruneBefore(int step) {
        return step == 0 ? OptionalDouble.of(sparsity) : OptionalDouble.empty();
    }
}
