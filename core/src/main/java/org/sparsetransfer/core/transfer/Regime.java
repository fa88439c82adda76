package org.sparsetransfer.core.transfer;

import org.sparsetransfer.core.config.Choice;

/** How a checkpoint is fine-tuned on a downstream task (Iofinova et al. 2022). */
public enum Regime implements Choice.Named {
    /** Frozen backbone: features extracted once, a new linear head trained on them. */
    LINEAR("linear"),
    /** All layers trained with a new head; the upstream mask is re-applied after every step. */
    FULL("full");

    private final String key;

    Regime(String key) {
        this.key = key;
    }

    @Override
    public String key() {
        return key;
    }

    public static Regime parse(String name, String where) {
        return Choice.parse(Regime.class, name, where, "transfer regime");
    }
}
