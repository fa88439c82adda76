package org.sparsetransfer.core.method;

import java.io.Serializable;

/**
 * A pruning method's hyperparameters: its section {@code pruning.<key>} of a config. A recipe is
 * a class of public fields with defaults (read strictly from YAML, each field a key), declared in
 * its method's file; fields marked {@link org.sparsetransfer.core.config.ExperimentConfig.Alternative}
 * are two ways to give one length. Only values that differ from the defaults enter the method's
 * checkpoint ids, so a new field with a default changes no existing id.
 */
public interface MethodRecipe extends Serializable {}
