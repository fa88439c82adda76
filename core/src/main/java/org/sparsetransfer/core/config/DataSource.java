package org.sparsetransfer.core.config;

import com.fasterxml.jackson.annotation.JsonValue;

/** Where an experiment's datasets come from ({@code data.source}). */
public enum DataSource implements Choice.Named {
    /** The demo's real data: Fashion-MNIST upstream, MNIST and the 8x8 digits downstream. */
    DEMO("demo"),
    /** Image trees on disk (ImageNet-style folders, CIFAR batches) at data.images. */
    IMAGES("images");

    private final String key;

    DataSource(String key) {
        this.key = key;
    }

    @JsonValue
    @Override
    public String key() {
        return key;
    }
}
