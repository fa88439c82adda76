package org.sparsetransfer.jobs.stages;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Consumer;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.Function;
import org.sparsetransfer.core.InvalidInputException;

/**
 * Runs independent training jobs, each as its own one-task Spark job submitted from a driver
 * thread, and persists each result as soon as it arrives. So a failure or a kill loses only
 * the runs in flight: everything finished is already in Delta, and a rerun skips it.
 * Persisting is serialized on the driver, so Delta commits never race each other.
 */
final class TrainingJobs {
    private TrainingJobs() {}

    /** A job with its one-line description (shown in the Spark UI and the console). */
    record Described<J>(J job, String description) {}

    static <J extends Serializable, R> void run(JavaSparkContext jsc, String stage, List<Described<J>> jobs,
            Function<J, R> work, Consumer<R> persist) {
        if (jobs.isEmpty()) {
            return;
        }
        int threads = Math.min(jobs.size(), Math.max(1, jsc.defaultParallelism()));
        ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, stage + "-submitter");
            t.setDaemon(true);
            return t;
        });
        Object persistLock = new Object();
        List<Future<?>> futures = new ArrayList<>();
        for (Described<J> described : jobs) {
            futures.add(pool.submit(() -> {
                jsc.setJobGroup(stage, stage + ": " + described.description(), true);
                StageContext.log(stage, "started " + described.description());
                List<R> result = jsc.parallelize(List.of(described.job()), 1).map(work).collect();
                synchronized (persistLock) {
                    persist.accept(result.get(0));
                }
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
                failures.add(jobs.get(i).description() + ": " + rootMessage(e.getCause()));
                firstCause = firstCause == null ? e.getCause() : firstCause;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                pool.shutdownNow();
                throw new IllegalStateException(stage + " was interrupted", e);
            }
        }
        pool.shutdown();
        if (!failures.isEmpty()) {
            String message = stage + ": " + failures.size() + " of " + jobs.size() + " runs failed (finished runs are saved; "
                    + "rerun to retry the rest):\n  " + String.join("\n  ", failures);
            InvalidInputException userError = findUserError(firstCause);
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

    private static InvalidInputException findUserError(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof InvalidInputException iie) {
                return iie;
            }
        }
        return null;
    }
}
