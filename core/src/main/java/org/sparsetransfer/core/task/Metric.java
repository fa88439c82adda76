package org.sparsetransfer.core.task;

import org.sparsetransfer.core.train.Scores;

/** The accuracy a task reports, by its convention. */
public enum Metric {
    TOP1("top1"),
    MEAN_PER_CLASS("mean_per_class");

    private final String key;

    Metric(String key) {
        this.key = key;
    }

    public String key() {
        return key;
    }

    /** This metric's value of {@code scores}, in percent. */
    public double percent(Scores scores) {
        return 100.0 * (this == TOP1 ? scores.top1() : scores.meanPerClass());
    }
}
