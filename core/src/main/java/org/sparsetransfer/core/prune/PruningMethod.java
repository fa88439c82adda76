package org.sparsetransfer.core.prune;

import java.util.Arrays;
import org.sparsetransfer.core.InvalidInputException;

/** The pruning methods a config may name. */
public enum PruningMethod {
    /** The dense upstream model itself (sparsity 0). */
    DENSE("dense", null),
    /** Global magnitude prune to the target, then fine-tune with the mask fixed. */
    ONESHOT("oneshot", "oneshot"),
    /** Gradual magnitude pruning, tuned (docs/design.md, "Pruning methods"). */
    GMP_STAR("gmp_star", "gmp_star"),
    /** Classic gradual magnitude pruning (Zhu and Gupta 2017). */
    GMP("gmp", "gmp"),
    /** Iterative magnitude pruning with rewinding: one chain of rounds through all targets. */
    IMP("imp", "imp"),
    /** Cyclic overlapping lottery tickets: K segment models per round, masks intersected. */
    COLT("colt", "colt");

    private final String key;
    private final String configKey;

    PruningMethod(String key, String configKey) {
        this.key = key;
        this.configKey = configKey;
    }

    /** Name in configs, ids and tables. */
    public String key() {
        return key;
    }

    /** Its recipe's section under {@code pruning:} in the config, or null. */
    public String configKey() {
        return configKey;
    }

    /** Whether the method's checkpoints form one chain through the targets (each the next's parent). */
    public boolean chained() {
        return this == IMP || this == COLT;
    }

    public static PruningMethod parse(String name, String where) {
        return Arrays.stream(values()).filter(m -> m.key.equals(name)).findFirst()
                .orElseThrow(() -> new InvalidInputException("Unknown pruning method '" + name + "' at " + where
                        + "; expected one of " + Arrays.stream(values()).map(PruningMethod::key).toList()));
    }
}
