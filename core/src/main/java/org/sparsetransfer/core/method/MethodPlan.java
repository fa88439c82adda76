package org.sparsetransfer.core.method;

/**
 * What a method's pruning of one config amounts to, for the dry run and the Airflow plan: its
 * training runs and optimizer steps ({@code upperBound} when they depend on the data, as COLT's
 * rounds do), a one-line summary, and its lengths in words.
 */
public record MethodPlan(long runs, long steps, boolean upperBound, String detail, String lengths) {
    /** A method that trains nothing of its own (the dense baseline). */
    public static MethodPlan none(String detail) {
        return new MethodPlan(0, 0, false, detail, null);
    }
}
