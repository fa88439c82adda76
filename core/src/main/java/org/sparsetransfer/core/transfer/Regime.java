package org.sparsetransfer.core.transfer;

import java.util.Arrays;
import org.sparsetransfer.core.InvalidInputException;

/** How a checkpoint is fine-tuned on a downstream task (Iofinova et al. 2022). */
public enum Regime {
    /** Frozen backbone: features extracted once, a new linear head trained on them. */
    LINEAR("linear"),
    /** All layers trained with a new head; the upstream mask is re-applied after every step. */
    FULL("full");

    private final String key;

    Regime(String key) {
        this.key = key;
    }

    public String key() {
        return key;
    }

    public static Regime parse(String name, String where) {
        return Arrays.stream(values()).filter(r -> r.key.equals(name)).findFirst()
                .orElseThrow(() -> new InvalidInputException("Unknown transfer regime '" + name + "' at " + where
                        + "; expected one of " + Arrays.stream(values()).map(Regime::key).toList()));
    }
}
