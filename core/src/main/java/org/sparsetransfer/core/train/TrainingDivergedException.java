package org.sparsetransfer.core.train;

/** The loss became NaN or infinite: the run is recorded as failed, not retried. */
public final class TrainingDivergedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public TrainingDivergedException(int step, float loss) {
        super("training diverged at step " + step + ": loss is " + loss);
    }
}
