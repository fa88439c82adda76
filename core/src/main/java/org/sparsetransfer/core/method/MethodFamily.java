package org.sparsetransfer.core.method;

import org.sparsetransfer.core.config.Choice;

/**
 * The families Iofinova et al. (2022) compare; their central finding is that families transfer
 * differently, so reports group methods by family.
 */
public enum MethodFamily implements Choice.Named {
    /** The dense upstream model, the baseline every sparse one is compared with. */
    DENSE("dense"),
    /** Pruning by weight magnitude, at once or gradually (one-shot, GMP, GMP*). */
    MAGNITUDE("magnitude"),
    /** Masks found by pruning and rewinding to an early point (IMP, COLT). */
    LOTTERY_TICKET("lottery_ticket"),
    /** Sparsity induced during training by alternating or penalized phases (AC/DC). */
    REGULARIZATION("regularization"),
    /** Sparse training that drops and regrows connections (RigL). */
    REGROWTH("regrowth"),
    /** Masks constrained to a hardware pattern (N:M). */
    SEMI_STRUCTURED("semi_structured"),
    /** Pruning by a second-order estimate of the loss change (WoodFisher, M-FAC; imported). */
    SECOND_ORDER("second_order"),
    /** An imported checkpoint whose family its import did not name. */
    UNSPECIFIED("unspecified");

    private final String key;

    MethodFamily(String key) {
        this.key = key;
    }

    @Override
    public String key() {
        return key;
    }

    /** The family {@code key} names, or an error at {@code where} listing the keys. */
    public static MethodFamily parse(String key, String where) {
        return Choice.parse(MethodFamily.class, key, where, "method family");
    }
}
