package org.sparsetransfer.core.prune;

import java.util.OptionalDouble;
import org.sparsetransfer.core.train.TrainingSchedule;

/**
 * Gradual magnitude pruning. Pruning steps at t0, t0+dt, ..., t0+n*dt (t0 = warm-up length)
 * with s_j = s_f + (s_i - s_f) * (1 - j/n)^3 (Zhu and Gupta 2017), then recovery at s_f.
 *
 * <p>GMP* (Kurtic and Alistarh 2022): s_i = min(initial, s_f), so the first pruning step jumps
 * straight there; the learning rate is re-warmed to its maximum at every pruning step and
 * decays linearly within each interval; recovery decays linearly from the maximum to zero.
 * Classic GMP: s_i = 0 and one linear decay over the whole run.
 */
public final class GmpSchedule implements TrainingSchedule {
    private final int warmupSteps;
    private final int pruningSteps;
    private final int interval;
    private final int recoverySteps;
    private final double initialSparsity;
    private final double finalSparsity;
    private final float lrMax;
    private final float lrMin;
    private final boolean rewarm;

    private GmpSchedule(Builder b) {
        if (!(b.finalSparsity >= 0 && b.finalSparsity < 1)) {
            throw new IllegalArgumentException("final sparsity must be in [0, 1), got " + b.finalSparsity);
        }
        if (b.pruningSteps < 0 || b.interval < 1 || b.warmupSteps < 0 || b.recoverySteps < 0) {
            throw new IllegalArgumentException("GMP steps must be non-negative and the interval positive");
        }
        warmupSteps = b.warmupSteps;
        pruningSteps = b.pruningSteps;
        interval = b.interval;
        recoverySteps = b.recoverySteps;
        finalSparsity = b.finalSparsity;
        initialSparsity = Math.min(b.initialSparsity, b.finalSparsity);
        lrMax = b.lrMax;
        lrMin = b.lrMin;
        rewarm = b.rewarm;
    }

    /** GMP*: jump to {@code initial} (default 0.7), re-warmed cyclic linear LR. */
    public static Builder star(double finalSparsity) {
        return new Builder(finalSparsity).initialSparsity(0.7).rewarm(true);
    }

    /** Classic GMP: cubic from 0, no jump, no re-warm. */
    public static Builder classic(double finalSparsity) {
        return new Builder(finalSparsity).initialSparsity(0.0).rewarm(false);
    }

    @Override
    public int totalSteps() {
        return warmupSteps + pruningSteps * interval + recoverySteps;
    }

    /** The step of pruning event {@code j} (0..n). */
    public int eventStep(int j) {
        return warmupSteps + j * interval;
    }

    /** Target sparsity of pruning event {@code j} (0..n). */
    public double sparsityAtEvent(int j) {
        if (pruningSteps == 0) {
            return finalSparsity;
        }
        double remaining = 1.0 - (double) j / pruningSteps;
        return finalSparsity + (initialSparsity - finalSparsity) * remaining * remaining * remaining;
    }

    @Override
    public OptionalDouble pruneBefore(int step) {
        int offset = step - warmupSteps;
        if (offset < 0 || offset % interval != 0 || offset / interval > pruningSteps) {
            return OptionalDouble.empty();
        }
        double target = sparsityAtEvent(offset / interval);
        // Classic GMP's first event is at sparsity 0: nothing to prune yet.
        return target > 0 ? OptionalDouble.of(target) : OptionalDouble.empty();
    }

    @Override
    public float learningRate(int step) {
        int total = totalSteps();
        if (!rewarm) {
            return total <= 1 ? lrMax : lrMax + (lrMin - lrMax) * step / (float) (total - 1);
        }
        if (step < warmupSteps) {
            return lrMax;
        }
        int lastEvent = eventStep(pruningSteps);
        if (step < lastEvent) {
            int within = (step - warmupSteps) % interval;
            return lrMax + (lrMin - lrMax) * within / (float) interval;
        }
        int within = step - lastEvent;
        return lrMax * (1f - within / (float) Math.max(1, recoverySteps));
    }

    /** Builder with the recipe's knobs; defaults suit fine-tuning a trained dense model. */
    public static final class Builder {
        private final double finalSparsity;
        private double initialSparsity = 0.7;
        private int warmupSteps;
        private int pruningSteps = 8;
        private int interval = 50;
        private int recoverySteps = 200;
        private float lrMax = 0.02f;
        private float lrMin = 0.0f;
        private boolean rewarm = true;

        private Builder(double finalSparsity) {
            this.finalSparsity = finalSparsity;
        }

        public Builder initialSparsity(double value) {
            initialSparsity = value;
            return this;
        }

        public Builder warmupSteps(int value) {
            warmupSteps = value;
            return this;
        }

        /** Number of pruning intervals n after the first pruning step. */
        public Builder pruningSteps(int value) {
            pruningSteps = value;
            return this;
        }

        public Builder interval(int value) {
            interval = value;
            return this;
        }

        public Builder recoverySteps(int value) {
            recoverySteps = value;
            return this;
        }

        public Builder learningRate(float max, float min) {
            lrMax = max;
            lrMin = min;
            return this;
        }

        public Builder rewarm(boolean value) {
            rewarm = value;
            return this;
        }

        public GmpSchedule build() {
            return new GmpSchedule(this);
        }
    }
}
