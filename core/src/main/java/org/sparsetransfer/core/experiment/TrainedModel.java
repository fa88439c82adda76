package org.sparsetransfer.core.experiment;

import java.io.Serializable;
import org.sparsetransfer.core.model.Weights;
import org.sparsetransfer.core.prune.Mask;
import org.sparsetransfer.core.train.Scores;
import org.sparsetransfer.core.train.TrainingLoop;

/**
 * An upstream model after training or pruning: its weights (pruned elements exactly zero), its
 * mask (null when dense), upstream validation and test scores, and what the training cost.
 */
public record TrainedModel(Weights weights, Mask mask, Scores val, Scores test, int trainSteps, long examplesSeen,
        double wallSeconds) implements Serializable {

    public double sparsity() {
        return mask == null ? 0.0 : mask.sparsity();
    }

    static TrainedModel of(Weights weights, Mask mask, Scores val, Scores test, TrainingLoop.Result result) {
        return new TrainedModel(weights, mask, val, test, result.steps(), result.examplesSeen(), result.wallSeconds());
    }
}
