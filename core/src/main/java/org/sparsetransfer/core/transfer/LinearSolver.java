package org.sparsetransfer.core.transfer;

import org.sparsetransfer.core.config.Choice;

/** How the linear regime trains its head on the frozen features. */
public enum LinearSolver implements Choice.Named {
    /** The recipe's steps or epochs of SGD with momentum (Iofinova et al.'s protocol). */
    SGD("sgd"),
    /** Multinomial logistic regression fitted to convergence by L-BFGS, its penalty chosen on validation (Kornblith et al. 2019). */
    LBFGS("lbfgs");

    private final String key;

    LinearSolver(String key) {
        this.key = key;
    }

    @Override
    public String key() {
        return key;
    }

    /** The solver a recipe names (null: sgd). */
    public static LinearSolver of(String name, String where) {
        return name == null ? SGD : Choice.parse(LinearSolver.class, name, where, "linear solver");
    }
}
