package org.sparsetransfer.jobs.stages;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.Function;
import org.sparsetransfer.core.InvalidInputException;

/**
 * Runs a stage's independent units of work in parallel driver threads. A unit submits Spark jobs
 * (one task per training run) and persists each result as soon as it arrives, so a failure or a
 * kill loses only the runs in flight: everything finished is in Delta, and a rerun skips it.
 * Persisting is serialized on the driver, so Delta commits never race each other.
 */
final class TrainingJobs {
    private static final Object PERSIST_LOCK = new Object();

    private TrainingJobs() {}

    /** Driver-side work: may launch Spark jobs and persist their results. */
    @FunctionalInterface
    interface Unit {
        void run() throws Exception;
    }

    /** A unit with its one-line description (shown in the Spark UI and the console). */
    record Described(Unit unit, String description) {}

    /** Runs {@code work} on one job as a single Spark task and returns its result. */
    static <J extends Serializable, R> R onExecutor(JavaSparkContext jsc, J job, Function<J, R> work) {
        return jsc.parallelize(List.of(job), 1).map(work).collect().get(0);
    }

    /** Runs {@code work} on each job as its own Spark task, all in one Spark job; results in order. */
    static <J extends Serializable, R> List<R> onExecutors(JavaSparkContext jsc, List<J> jobs, Function<J, R> work) {
        return jsc.parallelize(jobs, jobs.size()).map(work).collect();
    }

    /** Persists one result; never concurrently with another. */
    static void persist(Runnable write) {
        synchronized (PERSIST_LOCK) {
            write.run();
            FaultInjection.afterStore();
        }
    }

    static void run(JavaSparkContext jsc, String stage, List<Described> units) {
        if (units.isEmpty()) {
            return;
        }
        int threads = Math.min(units.size(), Math.max(1, jsc.defaultParallelism()));
        ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, stage + "-submitter");
            t.setDaemon(true);
            return t;
        });
        List<Future<?>> futures = new ArrayList<>();
        for (Described described : units) {
            futures.add(pool.submit(() -> {
                jsc.setJobGroup(stage, stage + ": " + described.description(), true);
                StageContext.log(stage, "started " + described.description());
                described.unit().run();
                StageContext.log(stage, "finished " + described.description());
                return null;
            }));
        }
        List<String> failures = new ArrayList<>();
        Throwable firstCause = null;
        for (int i = 0; i < futures.size(); i++) {
            try {
                futures.get(i).get();
            } catch (ExecutionException e) {
                failures.add(units.get(i).description() + ": " + rootMessage(e.getCause()));
                firstCause = firstCause == null ? e.getCause() : firstCause;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                pool.shutdownNow();
                throw new IllegalStateException(stage + " was interrupted", e);
            }
        }
        pool.shutdown();
        if (!failures.isEmpty()) {
            String message = stage + ": " + failures.size() + " of " + units.size() + " units failed (finished runs are saved; "
                    + "rerun to retry the rest):\n  " + String.join("\n  ", failures);
            InvalidInputException userError = InvalidInputException.find(firstCause);
            if (userError != null) {
                throw new InvalidInputException(message, userError);
            }
            throw new IllegalStateException(message, firstCause);
        }
    }

    private static String rootMessage(Throwable t) {
        Throwable root = t;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.getClass().getSimpleName() + ": " + root.getMessage();
    }
}
