package org.sparsetransfer.jobs.stages;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.apache.spark.SimpleFutureAction;
import org.apache.spark.SparkContext;
import org.apache.spark.SparkException;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.Function;
import org.sparsetransfer.core.InvalidInputException;
import scala.jdk.javaapi.CollectionConverters;
import scala.runtime.AbstractFunction0;
import scala.runtime.AbstractFunction1;
import scala.runtime.AbstractFunction2;
import scala.runtime.BoxedUnit;

/**
 * Runs a stage's independent units of work in parallel driver threads. A unit submits Spark jobs
 * (one task per training run) and persists each result as soon as it arrives, so a failure or a
 * kill loses only the runs in flight: everything finished is in Delta, and a rerun skips it.
 * Persisting is serialized on the driver, so Delta commits never race each other.
 */
final class TrainingJobs {
    private static final Object PERSIST_LOCK = new Object();
    /** FAIR scheduler pools (SparkSessions turns FAIR on; resources/sparse-transfer/fairscheduler.xml gives writes the next free slot). */
    static final String TRAINING_POOL = "training";
    /** Results of streamed jobs are written at most this often. */
    static final int FLUSH_SECONDS = 10;
    static final String WRITE_POOL = "writes";

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
        return onExecutors(jsc, List.of(job), work).get(0);
    }

    /** Runs {@code work} on each job as its own Spark task, all in one Spark job; results in order. */
    static <J extends Serializable, R> List<R> onExecutors(JavaSparkContext jsc, List<J> jobs, Function<J, R> work) {
        List<List<R>> results = new ArrayList<>(1);
        inPool(TRAINING_POOL, () -> results.add(
                TrainingResources.apply(jsc.parallelize(jobs, jobs.size()), "training").map(work).collect()));
        return results.get(0);
    }

    /**
     * Runs {@code work} on each job as its own Spark task, all in one Spark job with one
     * partition per job (training tasks scheduled by {@link TrainingResources}), and hands the
     * results to {@code onResults} on the calling thread as their tasks succeed: whatever
     * arrived since the last call, in one batch, at most every {@link #FLUSH_SECONDS}. Spark reports a partition's result once, even
     * when its task was retried. If the job fails, the results that arrived are still handed
     * over before the failure is thrown.
     */
    static <J extends Serializable, R> void stream(JavaSparkContext jsc, String stage, List<J> jobs, Function<J, R> work,
            Consumer<List<R>> onResults) {
        JavaRDD<J> rdd = TrainingResources.apply(jsc.parallelize(jobs, jobs.size()), stage);
        BlockingQueue<R> arrived = new LinkedBlockingQueue<>();
        List<Object> partitions = new ArrayList<>();
        for (int i = 0; i < jobs.size(); i++) {
            partitions.add(i);
        }
        SimpleFutureAction<BoxedUnit>[] submitted = new SimpleFutureAction[1];
        inPool(TRAINING_POOL, () -> submitted[0] = jsc.sc().submitJob(rdd.rdd(), new RunOne<>(work),
                CollectionConverters.asScala(partitions).toSeq(), new Enqueue<>(arrived), new Done()));
        SimpleFutureAction<BoxedUnit> job = submitted[0];
        try {
            List<R> batch = new ArrayList<>();
            long lastFlush = System.nanoTime();
            while (true) {
                R next = arrived.poll(1, TimeUnit.SECONDS);
                if (next != null) {
                    batch.add(next);
                    arrived.drainTo(batch);
                }
                boolean finished = job.isCompleted() && arrived.isEmpty();
                // Each write is a Delta commit whose tasks take executor slots from training: batch
                // them, at most one per FLUSH_SECONDS, so a kill loses at most that much work.
                if (!batch.isEmpty() && (finished || System.nanoTime() - lastFlush >= TimeUnit.SECONDS.toNanos(FLUSH_SECONDS))) {
                    onResults.accept(batch);
                    batch = new ArrayList<>();
                    lastFlush = System.nanoTime();
                }
                if (finished) {
                    break;
                }
            }
            job.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            job.cancel();
            throw new IllegalStateException(stage + " was interrupted", e);
        } catch (SparkException e) {
            InvalidInputException userError = InvalidInputException.find(e);
            String message = stage + " failed (runs that finished are saved; rerun to retry the rest): " + rootMessage(e);
            if (userError != null) {
                throw new InvalidInputException(message, userError);
            }
            throw new IllegalStateException(message, e);
        } catch (RuntimeException e) {
            job.cancel();
            throw e;
        }
    }

    /** The task side of {@link #stream}: runs the partition's single job. */
    private static final class RunOne<J, R> extends AbstractFunction1<scala.collection.Iterator<J>, R> implements Serializable {
        private final Function<J, R> work;

        RunOne(Function<J, R> work) {
            this.work = work;
        }

        @Override
        public R apply(scala.collection.Iterator<J> partition) {
            try {
                return work.call(partition.next());
            } catch (RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw new IllegalStateException(e.getMessage(), e);
            }
        }
    }

    /** The driver side of {@link #stream}: called by Spark's scheduler, so it only enqueues. */
    private static final class Enqueue<R> extends AbstractFunction2<Object, R, BoxedUnit> implements Serializable {
        private final transient BlockingQueue<R> arrived;

        Enqueue(BlockingQueue<R> arrived) {
            this.arrived = arrived;
        }

        @Override
        public BoxedUnit apply(Object partition, R result) {
            arrived.add(result);
            return BoxedUnit.UNIT;
        }
    }

    private static final class Done extends AbstractFunction0<BoxedUnit> implements Serializable {
        @Override
        public BoxedUnit apply() {
            return BoxedUnit.UNIT;
        }
    }

    /** Persists training runs' results; never concurrently with another write. */
    static void persist(Runnable write) {
        synchronized (PERSIST_LOCK) {
            inPool(WRITE_POOL, write);
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

    /** The depth of a {@code treeAggregate} over {@code partitions} partitions: a binary tree, at least 2 levels. */
    static int treeDepth(int partitions) {
        return Math.max(2, (int) Math.ceil(Math.log(partitions) / Math.log(2)));
    }

    /** Runs {@code action} with the Spark jobs it starts in scheduler pool {@code pool}. */
    static void inPool(String pool, Runnable action) {
        SparkContext sc = SparkContext.getOrCreate();
        String previous = sc.getLocalProperty("spark.scheduler.pool");
        sc.setLocalProperty("spark.scheduler.pool", pool);
        try {
            action.run();
        } finally {
            sc.setLocalProperty("spark.scheduler.pool", previous);
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
