package org.sparsetransfer.core.method;

import com.fasterxml.jackson.annotation.JsonValue;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Optional;
import org.sparsetransfer.core.config.Choice;
import org.sparsetransfer.core.config.ConfigLoader;
import org.sparsetransfer.core.config.ExperimentConfig;
import org.sparsetransfer.core.config.ExperimentIds;
import org.sparsetransfer.core.config.RunLength;
import org.sparsetransfer.core.experiment.UpstreamSchedules;
import org.sparsetransfer.core.model.Weights;
import org.sparsetransfer.core.prune.ImpPlan;
import org.sparsetransfer.core.prune.MagnitudePruner;
import org.sparsetransfer.core.prune.Mask;
import org.sparsetransfer.core.train.LocalSgd;
import org.sparsetransfer.core.train.TrainingLoop;
import org.sparsetransfer.core.train.TrainingSchedule;
import org.sparsetransfer.core.train.TrainingSchedule.LearningRate;

/**
 * Iterative magnitude pruning with rewinding (Frankle and Carbin 2019; Renda et al. 2020): one
 * chain of rounds from the dense model through every target, each round pruning a fraction of
 * the remaining weights by global magnitude and retraining from the rewind point (or as the mode
 * says); each target's checkpoint is the next one's start.
 */
final class ImpMethod extends RecipeMethod<ImpMethod.Recipe> {
    /** How a round retrains after pruning. */
    public enum Mode implements Choice.Named {
        /** From the dense run's weights at the rewind point, with its learning rate from there (Frankle et al. 2020). */
        WEIGHT_REWIND("weight_rewind"),
        /** From the current weights, with the dense run's learning rate from the rewind point (Renda et al. 2020). */
        LR_REWIND("lr_rewind"),
        /** From the current weights at a small constant learning rate. */
        FINETUNE("finetune"),
        /** From the current weights, with the dense run's learning rate from its start. */
        LINEAR_DECAY("linear_decay");

        private final String key;

        Mode(String key) {
            this.key = key;
        }

        @JsonValue
        @Override
        public String key() {
            return key;
        }
    }

    /** Section pruning.imp. */
    public static final class Recipe implements MethodRecipe {
        private static final long serialVersionUID = 1L;
        /**
         * Dense training step whose weights are the rewind point (0: the lottery ticket's init),
         * or {@code rewind_epoch}: that many epochs into the dense run.
         */
        @ExperimentConfig.Alternative("rewindEpoch")
        public Integer rewindStep = 100;
        @ExperimentConfig.Alternative("rewindStep")
        public Double rewindEpoch;
        /** Fraction of the remaining weights each round prunes (rounds are evened out per target). */
        public double pruneFraction = 0.3;
        /** Retraining after each round: {@code retrain_steps} or {@code retrain_epochs}. */
        @ExperimentConfig.Alternative("retrainEpochs")
        public Integer retrainSteps = 200;
        @ExperimentConfig.Alternative("retrainSteps")
        public Double retrainEpochs;
        public Mode mode = Mode.WEIGHT_REWIND;
        /** Constant learning rate of the finetune mode. */
        public float finetuneLr = 0.002f;

        /** Whether rounds restart from the dense run's weights at rewind_step, the only mode that needs them kept. */
        public boolean rewindsWeights() {
            return mode == Mode.WEIGHT_REWIND;
        }

        /** Where the dense run is rewound to, in the dense run's steps or epochs. */
        public RunLength rewindPoint() {
            return RunLength.of(rewindStep, rewindEpoch);
        }

        public RunLength retrain() {
            return RunLength.of(retrainSteps, retrainEpochs);
        }
    }

    ImpMethod() {
        super("imp", MethodFamily.LOTTERY_TICKET, Recipe.class, Recipe::new, 3);
    }

    @Override
    public boolean chained() {
        return true;
    }

    @Override
    public void validate(ExperimentConfig config, String source) {
        Recipe imp = recipe(config);
        ConfigLoader.length(source, "pruning.imp", "rewind_step", "rewind_epoch", imp.rewindPoint(), true);
        ConfigLoader.fraction(source, at("prune_fraction"), imp.pruneFraction);
        ConfigLoader.length(source, "pruning.imp", "retrain_steps", "retrain_epochs", imp.retrain(), false);
        ConfigLoader.positive(source, at("finetune_lr"), imp.finetuneLr);
        if (config.upstream.pretrained != null && config.pruning.methods.contains(key()) && imp.rewindsWeights()) {
            throw ConfigLoader.bad(source, at("mode"), imp.mode.key(), "lr_rewind, finetune or linear_decay with upstream.pretrained "
                    + "(weight_rewind rewinds to the dense run's weights at rewind_step, and a pretrained model has no such run)");
        }
    }

    @Override
    public Optional<DenseKeep> keepsFromDense(ExperimentIds ids, UpstreamSchedules schedules) {
        Recipe imp = recipe(schedules.config());
        if (!imp.rewindsWeights()) {
            return Optional.empty();
        }
        ObjectNode key = ExperimentIds.newKey();
        if (imp.rewindStep != null) {
            key.put("rewind_step", imp.rewindStep);
        } else {
            key.put("rewind_epoch", imp.rewindEpoch); // the dense parent's id fixes the epoch's steps
        }
        return Optional.of(new DenseKeep(ids.denseDerivedId("rewind", key), schedules.denseStep(imp.rewindPoint())));
    }

    @Override
    public MethodPlan plan(UpstreamSchedules schedules) {
        Recipe imp = recipe(schedules.config());
        int rounds = ImpPlan.plan(targets(schedules.config()), imp.pruneFraction).stream().mapToInt(r -> r.length).sum();
        return new MethodPlan(rounds, (long) rounds * retrainSchedule(imp, schedules).totalSteps(), false, "imp " + rounds + " rounds",
                "rewind point " + SingleRunMethod.length(imp.rewindPoint(), schedules.denseStep(imp.rewindPoint()))
                        + " into the dense run, " + SingleRunMethod.length(imp.retrain(), retrainSchedule(imp, schedules).totalSteps())
                        + " of retraining per round");
    }

    @Override
    public List<PruningRun.Work> work(PruningRun run, List<Double> missing) {
        return missing.isEmpty() ? List.of() : List.of(new PruningRun.Work("imp chain to " + missing, () -> chain(run)));
    }

    /** The rewind point (when the mode needs it), then each target's rounds, continuing from the previous target's checkpoint. */
    private void chain(PruningRun run) throws Exception {
        ExperimentConfig config = run.config();
        Recipe imp = recipe(config);
        Weights rewind = null;
        Optional<DenseKeep> keep = keepsFromDense(run.ids(), run.schedules());
        if (keep.isPresent()) {
            Optional<PruningRun.Stored> stored = run.stored(keep.get().id());
            rewind = stored.isPresent() ? stored.get().weights() : storeRewind(run, keep.get());
        }
        List<Double> targets = targets(config);
        List<double[]> plan = ImpPlan.plan(targets, imp.pruneFraction);
        PruningRun.Stored previous = run.dense();
        for (int i = 0; i < targets.size(); i++) {
            double target = targets.get(i);
            String id = run.ids().prunedId(this, target);
            Optional<PruningRun.Stored> existing = run.stored(id);
            if (existing.isPresent()) {
                previous = existing.get();
                continue;
            }
            String tag = "prune imp " + target;
            Mask startMask = previous.mask() != null ? previous.mask() : run.denseMask();
            LocalSgd.Result result = rounds(imp, run.schedules(), previous.weights(), startMask, rewind, plan.get(i),
                    run.trainer(tag, PruningRun.Rows.WHOLE_SPLIT, id), run.progress(tag));
            PruningRun.Cost before = previous.method().equals(key()) ? previous.cost() : PruningRun.Cost.NONE;
            run.store(this, PruningRun.Made.scored(id, previous.id(), "imp", target, run.score(tag, result), before));
            previous = run.stored(id).orElseThrow(() -> new IllegalStateException("checkpoint " + id + " was stored but cannot be read"));
        }
    }

    /**
     * The rewind point when the dense checkpoint was made without it (IMP added to the config
     * later): the dense run's first steps, from the same initialization, again.
     */
    private Weights storeRewind(PruningRun run, DenseKeep keep) throws Exception {
        UpstreamSchedules schedules = run.schedules();
        run.progress("prune").log("imp: training the dense model's first " + keep.step() + " steps again to keep its weights there");
        Weights init = run.initialWeights();
        Weights weights = keep.step() == 0 ? init : run.denseTrainer("prune imp rewind", keep.id())
                .train(schedules.densePrefix(keep.step()), null, schedules.denseSettings(), init, null, null, -1).weights();
        run.store(this, PruningRun.Made.intermediate(keep.id(), run.dense().id(), "rewind", 0.0, weights, null,
                new PruningRun.Cost(keep.step(), (long) keep.step() * run.config().upstream.batchSize, 0.0)));
        return weights;
    }

    /**
     * Rounds from {@code start} under {@code startMask} through {@code rounds} (sparsity after
     * each): prune by magnitude, reset by the mode, retrain (each round a training of its own,
     * from zero momentum).
     */
    static LocalSgd.Result rounds(Recipe imp, UpstreamSchedules schedules, Weights start, Mask startMask, Weights rewind,
            double[] rounds, LocalSgd.Trainer trainer, TrainingLoop.Progress progress) throws Exception {
        MagnitudePruner pruner = MagnitudePruner.of(schedules.config().pruning.criterion);
        TrainingLoop.Settings settings = schedules.pruneSettings("imp", rounds[rounds.length - 1]);
        TrainingSchedule retrain = retrainSchedule(imp, schedules);
        Weights weights = start;
        Mask mask = startMask;
        LocalSgd.Result total = null;
        for (int r = 0; r < rounds.length; r++) {
            mask = pruner.prune(weights, mask, rounds[r]);
            progress.log(String.format("round %d/%d: pruned to sparsity %.4f, %s", r + 1, rounds.length, mask.sparsity(),
                    imp.mode.key().replace('_', ' ')));
            LocalSgd.Result result = trainer.train(retrain, null, settings, imp.rewindsWeights() ? rewind : weights, mask, null, -1);
            weights = result.weights();
            total = total == null ? result : total.then(result);
        }
        return total;
    }

    /** What a round retrains after pruning: retrain_steps with the learning rate of the mode. */
    static TrainingSchedule retrainSchedule(Recipe imp, UpstreamSchedules schedules) {
        ExperimentConfig config = schedules.config();
        // LR at the rewind step of the dense run's linear decay: where rewinding resumes the schedule.
        float lrAtRewind = config.upstream.lr * (1f - Math.min(1f, schedules.denseStep(imp.rewindPoint()) / (float) schedules.denseSteps()));
        LearningRate lr = switch (imp.mode) {
            case WEIGHT_REWIND, LR_REWIND -> LearningRate.linear(lrAtRewind, 0f);
            case FINETUNE -> (step, total) -> imp.finetuneLr;
            case LINEAR_DECAY -> LearningRate.linear(config.upstream.lr, 0f);
        };
        return TrainingSchedule.fixedMask(schedules.pruningSteps(imp.retrain()), lr);
    }
}
