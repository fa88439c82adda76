package org.sparsetransfer.core.prune;

import com.fasterxml.jackson.annotation.JsonValue;
import org.sparsetransfer.core.config.Choice;

/** How magnitude pruning ranks weights: one threshold over all prunable tensors, or the same fraction within each. */
public enum Criterion implements Choice.Named {
    GLOBAL("global"),
    LAYERWISE("layerwise");

    private final String key;

    Criterion(String key) {
        this.key = key;
    }

    @JsonValue
    @Override
    public String key() {
        return key;
    }
}
