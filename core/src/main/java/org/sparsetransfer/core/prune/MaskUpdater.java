package org.sparsetransfer.core.prune;

import java.io.Serializable;
import org.sparsetransfer.core.model.Weights;

/**
 * How a training's mask changes at the steps its schedule names
 * ({@link org.sparsetransfer.core.train.TrainingSchedule#pruneBefore}): prune (magnitude, N:M),
 * regrow (RigL), lift and re-impose (AC/DC). The training applies the mask after every optimizer
 * step, so pruned weights stay exactly zero whatever the updater does; a connection an update
 * makes active starts from zero weight and zero momentum.
 */
public interface MaskUpdater extends Serializable {
    /**
     * The mask to train under from {@code step} on.
     *
     * @param target the schedule's target sparsity at this step
     * @param weights the training's (averaged) weights, pruned elements zero
     * @param current the mask trained under until now
     * @param gradient the dense gradient of the loss at {@code weights} on one batch (pruned
     *     elements included) when {@link #needsGradient()}; null otherwise
     */
    Mask update(int step, double target, Weights weights, Mask current, Weights gradient);

    /** Whether {@link #update} reads the dense gradient (the training computes one batch's before the update). */
    default boolean needsGradient() {
        return false;
    }

    /** What it does, in a training state's key: two updaters with one description make the same masks. */
    String describe();
}
