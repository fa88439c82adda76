package org.sparsetransfer.core.config;

import java.util.Locale;
import org.sparsetransfer.core.InvalidInputException;
import org.sparsetransfer.core.train.TrainingSchedule;

/**
 * A length of training as a config gives it: optimizer steps, or epochs (passes over the data
 * the run trains on, {@link TrainingSchedule#stepsPerEpoch} steps each). Exactly one is set.
 * Epochs may be fractional (e.g. a GMP interval of half an epoch); they round to the nearest
 * step, and a positive length is at least one step.
 */
public record RunLength(Integer steps, Double epochs) {
    public RunLength {
        if ((steps == null) == (epochs == null)) {
            throw new IllegalArgumentException("a run length is steps or epochs, exactly one; got steps " + steps + ", epochs " + epochs);
        }
    }

    public static RunLength of(Integer steps, Double epochs) {
        return new RunLength(steps, epochs);
    }

    public static RunLength ofSteps(int steps) {
        return new RunLength(steps, null);
    }

    public boolean inEpochs() {
        return epochs != null;
    }

    /**
     * Optimizer steps of this length for a run over {@code examples} examples at batch
     * {@code batch} (for data-parallel training, the global batch: an epoch is one pass of all
     * workers together over the whole data).
     */
    public int steps(long examples, int batch) {
        if (steps != null) {
            return steps;
        }
        double exact = epochs * TrainingSchedule.stepsPerEpoch(examples, batch);
        if (!(exact < Integer.MAX_VALUE)) {
            throw new InvalidInputException(String.format(Locale.ROOT, "%s epochs of %,d examples at batch %d are more than %,d steps; "
                    + "give fewer epochs", format(epochs), examples, batch, Integer.MAX_VALUE));
        }
        long rounded = Math.round(exact);
        return (int) (epochs > 0 ? Math.max(1, rounded) : rounded);
    }

    /** "400 steps", "1 epoch" or "1.5 epochs", as a config would say it. */
    public String describe() {
        return steps != null ? steps + (steps == 1 ? " step" : " steps") : format(epochs) + (epochs == 1 ? " epoch" : " epochs");
    }

    private static String format(double value) {
        return value == Math.rint(value) ? String.valueOf((long) value) : String.valueOf(value);
    }
}
