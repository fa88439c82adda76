package org.sparsetransfer.core.method;

import java.util.List;
import java.util.Optional;
import org.sparsetransfer.core.config.ExperimentConfig;
import org.sparsetransfer.core.experiment.UpstreamSchedules;

/**
 * A pruning method as a plug-in: its key (in configs, ids and tables), its family, the targets it
 * accepts, its recipe (the config section {@code pruning.<key>}: defaults and validation), its
 * plan and the work that makes its checkpoints. {@link PruningMethods} lists them; adding one is
 * one class and one registry line (docs/extending.md).
 *
 * <p>A method's work is expressed through {@link PruningRun}, which runs trainings in this JVM
 * (core's tests) or as Spark tasks ({@code jobs}); the algorithm (schedules, mask updates, rounds)
 * lives in the method, once.
 */
public interface PruningMethod {
    /** Name in configs, ids and tables. */
    String key();

    MethodFamily family();

    /** Its recipe at the defaults: the section {@code pruning.<key>}; null for a method without one. */
    MethodRecipe defaultRecipe();

    /** Checks the recipe's values (and how they combine with the rest of {@code config}); one clear error each. */
    default void validate(ExperimentConfig config, String source) {}

    /**
     * The target sparsities it makes checkpoints at, ascending and distinct: pruning.sparsities,
     * unless the method has its own list (N:M's multiples of 1/M).
     */
    default List<Double> targets(ExperimentConfig config) {
        return config.pruning.targets();
    }

    /** Whether its checkpoints form one chain through the targets (each the next's parent): its ids hash the chain. */
    default boolean chained() {
        return false;
    }

    /** The semantics version of its checkpoints (bump it when the same config would make other checkpoints). */
    int semantics();

    /**
     * A point of the dense run whose weights the method needs kept (IMP's rewind point): the
     * upstream stage keeps them as it trains, under the returned id.
     */
    default Optional<DenseKeep> keepsFromDense(org.sparsetransfer.core.config.ExperimentIds ids, UpstreamSchedules schedules) {
        return Optional.empty();
    }

    /** The dense run's weights after {@code step} steps, stored as checkpoint {@code id}. */
    record DenseKeep(String id, int step) implements java.io.Serializable {}

    /** Its trainings and lengths for this config, on an upstream training split of {@code schedules.trainSize()}. */
    MethodPlan plan(UpstreamSchedules schedules);

    /**
     * The units of work that make its checkpoints at {@code missing} (targets not stored yet);
     * independent units run at once. Every unit stores what it makes through {@code run} as it
     * finishes, so a rerun after a fault resumes.
     */
    List<PruningRun.Work> work(PruningRun run, List<Double> missing);
}
