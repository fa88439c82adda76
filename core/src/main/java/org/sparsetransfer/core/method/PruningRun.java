package org.sparsetransfer.core.method;

import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.sparsetransfer.core.config.ExperimentConfig;
import org.sparsetransfer.core.config.ExperimentIds;
import org.sparsetransfer.core.experiment.TrainedModel;
import org.sparsetransfer.core.experiment.UpstreamSchedules;
import org.sparsetransfer.core.model.Weights;
import org.sparsetransfer.core.prune.Mask;
import org.sparsetransfer.core.prune.SegmentSplit;
import org.sparsetransfer.core.train.LocalSgd;
import org.sparsetransfer.core.train.TrainingLoop;

/**
 * What a pruning method's work runs on: the config, the dense checkpoint, the stored
 * checkpoints, and trainings ({@link LocalSgd.Trainer}) on the upstream data, however they are
 * distributed. {@code jobs} runs trainings and scoring as Spark tasks and stores into Delta; core's
 * {@link InProcessPruning} runs them in this JVM. Methods never see which.
 */
public interface PruningRun {
    ExperimentConfig config();

    ExperimentIds ids();

    UpstreamSchedules schedules();

    /** The dense upstream checkpoint every method starts from. */
    Stored dense();

    /** The mask a pruning starts from: the model's prunable tensors, nothing pruned. */
    Mask denseMask() throws Exception;

    /** The dense run's initialization (theta_0 of lottery tickets; where sparse-from-scratch methods start). */
    Weights initialWeights() throws Exception;

    /** The model's prunable tensors of its backbone (heads left out: COLT's segment models have heads of their own). */
    Set<String> backboneTensors() throws Exception;

    /** Classes of the upstream dataset. */
    int numClasses();

    /** How many training examples each of {@code k} segments of the upstream training split holds. */
    long[] segmentSizes(int k, SegmentSplit split) throws Exception;

    /** A model of {@code classes} outputs: {@code backbone}'s feature tensors and a head initialized from {@code seed}. */
    Weights withHead(Weights backbone, int classes, long seed) throws Exception;

    /** A stored checkpoint, if there is one with this id. */
    Optional<Stored> stored(String id);

    /** Stores a checkpoint of {@code method}, then deletes the training states that made it. */
    void store(PruningMethod method, Made made);

    /**
     * Trainings on {@code rows} with the pruning recipe's distribution (pruning.data_parallel),
     * saving their states under {@code makes} (the checkpoint they make).
     */
    LocalSgd.Trainer trainer(String tag, Rows rows, String makes);

    /** Trainings of the dense run's schedule (upstream.data_parallel): re-running a prefix of it. */
    LocalSgd.Trainer denseTrainer(String tag, String makes);

    /** A training's result scored on the upstream validation and test splits. */
    TrainedModel score(String tag, LocalSgd.Result result) throws Exception;

    /** Runs independent units at once; fails after all finished if any failed, naming each. */
    void runAll(String name, List<Work> units) throws Exception;

    /** Where a unit's progress lines go. */
    TrainingLoop.Progress progress(String tag);

    /** Which upstream training examples a training reads: the whole split, or one of {@code segments} segments. */
    record Rows(int segments, SegmentSplit split, int index) implements java.io.Serializable {
        public static final Rows WHOLE_SPLIT = new Rows(0, SegmentSplit.CLASSES, -1);

        public static Rows segment(int segments, SegmentSplit split, int index) {
            return new Rows(segments, split, index);
        }

        public boolean wholeSplit() {
            return index < 0;
        }
    }

    /** A unit of driver-side work (it may launch trainings and store what they make). */
    @FunctionalInterface
    interface Unit {
        void run() throws Exception;
    }

    /** A unit with its one-line description (the console, the Spark UI). */
    record Work(String description, Unit unit) {}

    /** Training cost. */
    record Cost(int steps, long examples, double seconds) {
        public static final Cost NONE = new Cost(0, 0, 0);

        public Cost plus(Cost other) {
            return new Cost(Math.addExact(steps, other.steps), examples + other.examples, seconds + other.seconds);
        }
    }

    /** A checkpoint as stored: its lineage, cost, weights and mask (decoded when asked). */
    interface Stored {
        String id();

        String method();

        Cost cost();

        Weights weights();

        Mask mask();
    }

    /**
     * What a method makes: a scored upstream model ({@code model} set; {@code chainBefore} the
     * cost of the chain that led to it, counted in), or a step of its schedule that is not a
     * trained model (IMP's rewind point, a COLT round's mask; no scores).
     */
    record Made(String id, String parentId, String stage, double target, TrainedModel model, Weights weights, Mask mask,
            Cost cost) {
        public static Made scored(String id, String parentId, String stage, double target, TrainedModel model, Cost chainBefore) {
            return new Made(id, parentId, stage, target, model, model.weights(), model.mask(), chainBefore);
        }

        public static Made intermediate(String id, String parentId, String stage, double target, Weights weights, Mask mask,
                Cost cost) {
            return new Made(id, parentId, stage, target, null, weights, mask, cost);
        }

        /** The cost the stored checkpoint records: its own training's and, for a chain, the chain's before it. */
        public Cost totalCost() {
            return model == null ? cost : cost.plus(new Cost(model.trainSteps(), model.examplesSeen(), model.wallSeconds()));
        }
    }
}
