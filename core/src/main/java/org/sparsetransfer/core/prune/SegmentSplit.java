package org.sparsetransfer.core.prune;

import com.fasterxml.jackson.annotation.JsonValue;
import org.sparsetransfer.core.config.Choice;

/** How COLT splits the upstream training set into segments. */
public enum SegmentSplit implements Choice.Named {
    /** Disjoint, contiguous class ranges (labels renumbered from 0 within each). */
    CLASSES("classes"),
    /** A seeded random split of the examples over all classes. */
    RANDOM("random");

    private final String key;

    SegmentSplit(String key) {
        this.key = key;
    }

    @JsonValue
    @Override
    public String key() {
        return key;
    }
}
