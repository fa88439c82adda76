package org.sparsetransfer.jobs.stages;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * A config switch for testing resume: after N runs are stored, the JVM halts at once, like a
 * killed driver (no shutdown hooks, nothing flushed). Off unless {@code fault.exit_after_stored_runs} > 0.
 */
public final class FaultInjection {
    /** Exit code of a halted run. */
    public static final int EXIT_CODE = 75;
    private static final AtomicInteger REMAINING = new AtomicInteger();

    private FaultInjection() {}

    public static void arm(int storedRuns) {
        REMAINING.set(storedRuns);
    }

    public static void disarm() {
        REMAINING.set(0);
    }

    /** Called after each stored run. */
    static void afterStore() {
        if (REMAINING.get() > 0 && REMAINING.decrementAndGet() == 0) {
            StageContext.log("fault", "fault.exit_after_stored_runs reached: halting the JVM as if killed");
            Runtime.getRuntime().halt(EXIT_CODE);
        }
    }
}
