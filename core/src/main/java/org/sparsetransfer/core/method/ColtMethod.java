package org.sparsetransfer.core.method;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import org.sparsetransfer.core.config.ConfigLoader;
import org.sparsetransfer.core.config.ExperimentConfig;
import org.sparsetransfer.core.config.ExperimentIds;
import org.sparsetransfer.core.config.RunLength;
import org.sparsetransfer.core.experiment.UpstreamSchedules;
import org.sparsetransfer.core.model.Weights;
import org.sparsetransfer.core.prune.Colt;
import org.sparsetransfer.core.prune.MagnitudePruner;
import org.sparsetransfer.core.prune.Mask;
import org.sparsetransfer.core.prune.SegmentSplit;
import org.sparsetransfer.core.train.LocalSgd;
import org.sparsetransfer.core.train.TrainingLoop;
import org.sparsetransfer.core.train.TrainingSchedule;
import org.sparsetransfer.core.train.TrainingSchedule.LearningRate;

/**
 * Cyclic Overlapping Lottery Tickets (Hossain et al. 2023): rounds of K segment models, each
 * trained from theta_0 under the shared mask on its own segment of the upstream data (the K
 * trainings of a round run at once), each pruning a fraction of the weights the shared mask
 * keeps; the shared mask becomes their intersection. A round that would cross a target is
 * bisected to land on it ({@link Colt#round}), and the ticket found there (theta_0 under the
 * mask) is trained on the whole upstream dataset with a full head. Every round's mask is stored,
 * so a rerun resumes at the first round that is not.
 */
final class ColtMethod extends RecipeMethod<ColtMethod.Recipe> {
    /** Section pruning.colt. */
    public static final class Recipe implements MethodRecipe {
        private static final long serialVersionUID = 1L;
        /** Number of data segments, and of models. */
        public int segments = 2;
        /** classes (disjoint class ranges) or random (a random split of the examples). */
        public SegmentSplit split = SegmentSplit.CLASSES;
        /** Fraction of the remaining weights each model prunes per round. */
        public double pruneFraction = 0.15;
        /** What each model trains on its segment per round: {@code train_steps} or {@code train_epochs} (passes over its segment). */
        @ExperimentConfig.Alternative("trainEpochs")
        public Integer trainSteps = 150;
        @ExperimentConfig.Alternative("trainSteps")
        public Double trainEpochs;
        /** What the final ticket trains on the whole upstream dataset with a full head: {@code final_steps} or {@code final_epochs}. */
        @ExperimentConfig.Alternative("finalEpochs")
        public Integer finalSteps = 400;
        @ExperimentConfig.Alternative("finalSteps")
        public Double finalEpochs;
        public float lr = 0.05f;
        /** How close the shared mask must land to each target sparsity. */
        public double tolerance = 0.005;
        public int maxRounds = 40;

        public RunLength segmentTraining() {
            return RunLength.of(trainSteps, trainEpochs);
        }

        public RunLength finalTraining() {
            return RunLength.of(finalSteps, finalEpochs);
        }
    }

    ColtMethod() {
        super("colt", MethodFamily.LOTTERY_TICKET, Recipe.class, Recipe::new, 3);
    }

    @Override
    public boolean chained() {
        return true;
    }

    @Override
    public void validate(ExperimentConfig config, String source) {
        Recipe colt = recipe(config);
        if (colt.segments < 2 || colt.segments > 10) {
            throw ConfigLoader.bad(source, at("segments"), colt.segments, "2 to 10 (at most one per upstream class)");
        }
        ConfigLoader.fraction(source, at("prune_fraction"), colt.pruneFraction);
        ConfigLoader.length(source, "pruning.colt", "train_steps", "train_epochs", colt.segmentTraining(), false);
        ConfigLoader.length(source, "pruning.colt", "final_steps", "final_epochs", colt.finalTraining(), false);
        ConfigLoader.positive(source, at("lr"), colt.lr);
        ConfigLoader.fraction(source, at("tolerance"), colt.tolerance);
        ConfigLoader.positive(source, at("max_rounds"), colt.maxRounds);
    }

    @Override
    public MethodPlan plan(UpstreamSchedules schedules) {
        Recipe colt = recipe(schedules.config());
        int targets = targets(schedules.config()).size();
        long segmentRuns = (long) colt.maxRounds * colt.segments;
        // Segments in epochs are sized here as equal shares of the split (class segments differ a little).
        long segment = schedules.trainSize() / colt.segments;
        long steps = segmentRuns * segmentSchedule(colt, segment, schedules.config().pruning.batchSize).totalSteps() + (long) targets * finalSchedule(colt, schedules).totalSteps();
        return new MethodPlan(segmentRuns + targets, steps, true,
                "colt <= " + colt.maxRounds + " rounds x " + colt.segments + " segments + " + targets + " tickets",
                SingleRunMethod.length(colt.segmentTraining(), segmentSchedule(colt, segment, schedules.config().pruning.batchSize).totalSteps()) + " per segment and round"
                        + (colt.segmentTraining().inEpochs() ? String.format(Locale.ROOT, " (segments of about %,d images)", segment) : "")
                        + ", ticket " + SingleRunMethod.length(colt.finalTraining(), finalSchedule(colt, schedules).totalSteps()));
    }

    @Override
    public List<PruningRun.Work> work(PruningRun run, List<Double> missing) {
        return missing.isEmpty() ? List.of() : List.of(new PruningRun.Work("colt rounds to " + missing, () -> rounds(run)));
    }

    /** The shared mask after round {@code round} (1-based): the recipe, the targets and the pruning settings all methods share. */
    String roundId(ExperimentIds ids, ExperimentConfig config, int round) {
        ObjectNode key = ExperimentIds.newKey();
        key.put("round", round);
        key.set("colt", ExperimentIds.nonDefault(recipe(config), defaultRecipe()));
        key.set("pruning", ids.sharedPruningSettings());
        key.set("targets", ExperimentIds.toJson(config.pruning.sparsities.stream().sorted().toList()));
        ids.addSemantics(key, this);
        return String.format("colt-round%02d-%s", round, ids.derivedHash("colt-round", key));
    }

    private void rounds(PruningRun run) throws Exception {
        ExperimentConfig config = run.config();
        Recipe colt = recipe(config);
        UpstreamSchedules schedules = run.schedules();
        Weights theta0 = run.initialWeights();
        Set<String> tensors = run.backboneTensors();
        long[] segmentSizes = run.segmentSizes(colt.segments, colt.split);
        long roundSteps = 0;
        for (long size : segmentSizes) {
            roundSteps += segmentSchedule(colt, size, config.pruning.batchSize).totalSteps();
        }
        // Each segment model's start (theta_0's backbone, the segment's own seeded head), made when the first round that is not stored trains.
        List<Weights> segmentStarts = new ArrayList<>();
        MagnitudePruner pruner = MagnitudePruner.of(config.pruning.criterion);
        List<Double> targets = new ArrayList<>(targets(config));
        Mask shared = Mask.dense(theta0, tensors);
        String parentId = run.dense().id();
        PruningRun.Cost cost = PruningRun.Cost.NONE;
        for (int round = 1; !targets.isEmpty(); round++) {
            if (round > colt.maxRounds) {
                throw new IllegalStateException("colt: " + colt.maxRounds + " rounds did not reach sparsities " + targets
                        + " (shared mask at " + shared.sparsity() + "); raise pruning.colt.max_rounds or prune_fraction");
            }
            String roundId = roundId(run.ids(), config, round);
            Optional<PruningRun.Stored> stored = run.stored(roundId);
            if (stored.isPresent()) {
                shared = stored.get().mask();
                cost = stored.get().cost();
            } else {
                long start = System.nanoTime();
                if (segmentStarts.isEmpty()) {
                    for (int k = 0; k < colt.segments; k++) {
                        segmentStarts.add(run.withHead(theta0, Colt.segmentClasses(run.numClasses(), colt.segments,
                                colt.split == SegmentSplit.CLASSES, k), segmentSeed(config, k)));
                    }
                }
                Weights[] trained = new Weights[colt.segments];
                List<PruningRun.Work> segments = new ArrayList<>();
                Mask sharedMask = shared;
                for (int k = 0; k < colt.segments; k++) {
                    int segment = k;
                    String tag = "prune colt round " + round + " segment " + k;
                    LocalSgd.Trainer trainer = run.trainer(tag, PruningRun.Rows.segment(colt.segments, colt.split, segment), roundId);
                    segments.add(new PruningRun.Work(tag, () -> trained[segment] = trainer.train(segmentSchedule(colt, segmentSizes[segment], config.pruning.batchSize),
                            null, segmentSettings(config, segment), segmentStarts.get(segment), sharedMask, null, -1).weights()));
                }
                run.runAll("prune colt round " + round, segments);
                Colt.Round next = Colt.round(List.of(trained), shared, colt.pruneFraction, targets.get(0), colt.tolerance, pruner);
                shared = next.mask();
                cost = cost.plus(new PruningRun.Cost(Math.toIntExact(roundSteps), roundSteps * config.pruning.batchSize,
                        (System.nanoTime() - start) / 1e9));
                run.progress("prune").log(String.format("colt round %d: each model pruned %.4f of the remaining weights; "
                        + "shared mask sparsity %.4f", round, next.pruneFraction(), shared.sparsity()));
                run.store(this, PruningRun.Made.intermediate(roundId, parentId, "colt_round", targets.get(0), shared.apply(theta0), shared,
                        cost));
            }
            parentId = roundId;
            while (!targets.isEmpty() && shared.sparsity() >= targets.get(0) - colt.tolerance) {
                double target = targets.remove(0);
                String id = run.ids().prunedId(this, target);
                if (run.stored(id).isPresent()) {
                    continue;
                }
                String tag = "prune colt ticket " + target;
                LocalSgd.Result result = run.trainer(tag, PruningRun.Rows.WHOLE_SPLIT, id).train(finalSchedule(colt, schedules), null,
                        schedules.pruneSettings(key(), shared.sparsity()), theta0, shared, null, -1);
                run.store(this, PruningRun.Made.scored(id, roundId, "colt_ticket", target, run.score(tag, result), cost));
            }
        }
    }

    /** What a segment model trains per round on its segment of {@code segmentSize} examples (train_epochs are passes over it). */
    static TrainingSchedule segmentSchedule(Recipe colt, long segmentSize, int batch) {
        return TrainingSchedule.fixedMask(colt.segmentTraining().steps(segmentSize, batch), LearningRate.linear(colt.lr, 0f));
    }

    /** The ticket's training on all upstream data. */
    static TrainingSchedule finalSchedule(Recipe colt, UpstreamSchedules schedules) {
        return TrainingSchedule.fixedMask(schedules.pruningSteps(colt.finalTraining()), LearningRate.linear(colt.lr, 0f));
    }

    /** Optimizer settings of segment {@code index} (its seed also initializes its head, so rewinding restores it). */
    static TrainingLoop.Settings segmentSettings(ExperimentConfig config, int index) {
        ExperimentConfig.Pruning p = config.pruning;
        return new TrainingLoop.Settings(p.batchSize, p.momentum, p.weightDecay, segmentSeed(config, index));
    }

    private static long segmentSeed(ExperimentConfig config, int index) {
        return config.seed * 7919 + 101 + index;
    }
}
