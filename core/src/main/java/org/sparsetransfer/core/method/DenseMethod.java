package org.sparsetransfer.core.method;

import java.util.List;
import org.sparsetransfer.core.config.ExperimentConfig;
import org.sparsetransfer.core.experiment.UpstreamSchedules;

/**
 * The dense upstream model itself (sparsity 0), listed in pruning.methods to take part in the
 * transfer grid as the baseline. The upstream stage makes it; pruning makes nothing for it.
 */
final class DenseMethod implements PruningMethod {
    @Override
    public String key() {
        return "dense";
    }

    @Override
    public MethodFamily family() {
        return MethodFamily.DENSE;
    }

    @Override
    public MethodRecipe defaultRecipe() {
        return null;
    }

    @Override
    public List<Double> targets(ExperimentConfig config) {
        return List.of(0.0);
    }

    @Override
    public int semantics() {
        return 1; // its checkpoint is the upstream stage's, versioned there
    }

    @Override
    public MethodPlan plan(UpstreamSchedules schedules) {
        return MethodPlan.none("dense (the upstream checkpoint)");
    }

    @Override
    public List<PruningRun.Work> work(PruningRun run, List<Double> missing) {
        if (!missing.isEmpty()) {
            throw new IllegalStateException("the dense checkpoint is the upstream stage's; run the upstream command first");
        }
        return List.of();
    }
}
