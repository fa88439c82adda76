package org.sparsetransfer.core.experiment;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import org.sparsetransfer.core.config.ExperimentConfig;
import org.sparsetransfer.core.config.RunLength;
import org.sparsetransfer.core.model.Weights;
import org.sparsetransfer.core.train.LocalSgd;
import org.sparsetransfer.core.train.TrainingLoop;
import org.sparsetransfer.core.train.TrainingSchedule;
import org.sparsetransfer.core.train.TrainingSchedule.LearningRate;

/**
 * The lengths, schedules and seeds of upstream trainings on a training split of
 * {@code trainSize} examples, from the config alone: no data, no engine (planning, the driver,
 * and every pruning method's recipe read them here).
 */
public record UpstreamSchedules(ExperimentConfig config, long trainSize) {
    /** Steps of the dense run. */
    public int denseSteps() {
        return Math.multiplyExact(config.upstream.epochs, TrainingSchedule.stepsPerEpoch(trainSize, config.upstream.batchSize));
    }

    /** A pruning recipe's length in steps: its epochs count passes over the upstream training split at the pruning batch. */
    public int pruningSteps(RunLength length) {
        return length.steps(trainSize, config.pruning.batchSize);
    }

    /** A point of the dense run (e.g. IMP's rewind point) in the dense run's steps: its epochs count dense epochs. */
    public int denseStep(RunLength point) {
        return point.steps(trainSize, config.upstream.batchSize);
    }

    /** The dense run's schedule: linear decay from upstream.lr to 0. */
    public TrainingSchedule denseSchedule() {
        return TrainingSchedule.fixedMask(denseSteps(), LearningRate.linear(config.upstream.lr, 0f));
    }

    /** The dense run's first {@code steps} steps, with its learning rates (a training that passes through the same weights). */
    public TrainingSchedule densePrefix(int steps) {
        TrainingSchedule dense = denseSchedule();
        float[] rates = new float[steps];
        for (int s = 0; s < steps; s++) {
            rates[s] = dense.learningRate(s);
        }
        return TrainingSchedule.ofRates(rates);
    }

    /** The dense run from {@code init} with {@code trainer}, keeping its weights after {@code keepAtStep} steps when that is not -1. */
    public LocalSgd.Result trainDense(LocalSgd.Trainer trainer, Weights init, int keepAtStep) throws Exception {
        return trainer.train(denseSchedule(), null, denseSettings(), init, null, null, keepAtStep);
    }

    /** The dense run's optimizer and batching settings. */
    public TrainingLoop.Settings denseSettings() {
        ExperimentConfig.Upstream u = config.upstream;
        return new TrainingLoop.Settings(u.batchSize, u.momentum, u.weightDecay, config.seed);
    }

    /** Optimizer and batching settings of the pruning run of method {@code methodKey} to {@code sparsity}, with its own seed. */
    public TrainingLoop.Settings pruneSettings(String methodKey, double sparsity) {
        ExperimentConfig.Pruning p = config.pruning;
        return new TrainingLoop.Settings(p.batchSize, p.momentum, p.weightDecay, runSeed(config.seed, methodKey, sparsity));
    }

    /**
     * Each (method, sparsity) run shuffles differently but reproducibly: the seed derives from the
     * config's seed, the method's key and the target, so adding a method to the registry or a
     * config changes no other method's seed.
     */
    public static long runSeed(long configSeed, String methodKey, double sparsity) {
        return configSeed * 31 + keyHash(methodKey) + Math.round(sparsity * 1e4);
    }

    private static long keyHash(String key) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(("prune-seed:" + key).getBytes(StandardCharsets.UTF_8));
            long h = 0;
            for (int i = 0; i < 6; i++) { // 48 bits: far apart for any two keys, far from overflow with the rest
                h = (h << 8) | (digest[i] & 0xff);
            }
            return h;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every JVM", e);
        }
    }
}
