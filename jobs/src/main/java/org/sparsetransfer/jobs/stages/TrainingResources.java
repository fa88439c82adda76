package org.sparsetransfer.jobs.stages;

import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.resource.ExecutorResourceRequests;
import org.apache.spark.resource.ResourceProfile;
import org.apache.spark.resource.ResourceProfileBuilder;
import org.apache.spark.resource.TaskResourceRequests;

/**
 * How training tasks are scheduled so that an executor JVM runs one training at a time (DJL
 * allows one gradient collector per JVM, docs/design.md, "libtorch under DJL") and each gets the GPU it needs.
 *
 * <ul>
 *   <li>local mode: one JVM; trainings take turns on {@code TorchThreads}' lock and each uses
 *       all intra-op threads.</li>
 *   <li>static: {@code spark.task.cpus} already equals {@code spark.executor.cores} (the
 *       fallback in {@code conf/spark/gpu-cluster.conf}); nothing to add.</li>
 *   <li>task profile: a stage-level ResourceProfile whose tasks take all of an executor's
 *       cores (and one GPU if {@code spark.task.resource.gpu.amount} is set), so other stages
 *       keep their fine-grained tasks. Standalone, YARN and Kubernetes support it.</li>
 *   <li>GPU executor profile: with dynamic allocation and
 *       {@code spark.sparsetransfer.training.executorGpus} > 0, training stages ask for their
 *       own GPU executors, while ingest and report run on the CPU executors.</li>
 * </ul>
 */
final class TrainingResources {
    /** GPUs per executor that training stages ask for through a stage-level profile (0: none). */
    static final String EXECUTOR_GPUS = "spark.sparsetransfer.training.executorGpus";
    private static final java.util.Set<String> LOGGED = java.util.concurrent.ConcurrentHashMap.newKeySet();

    enum Kind { LOCAL, STATIC, TASK_PROFILE, GPU_EXECUTOR_PROFILE }

    /** What the conf asks for: the kind, and the profile to attach (null for LOCAL and STATIC). */
    record Plan(Kind kind, ResourceProfile profile, String description) {}

    private TrainingResources() {}

    static Plan plan(SparkConf conf) {
        String master = conf.get("spark.master", "local[*]");
        if (master.equals("local") || master.startsWith("local[")) {
            return new Plan(Kind.LOCAL, null, "local mode: one training at a time in this JVM, on all its cores");
        }
        int executorCores = conf.getInt("spark.executor.cores", 1);
        int executorGpus = conf.getInt(EXECUTOR_GPUS, 0);
        double taskGpus = conf.getDouble("spark.task.resource.gpu.amount", executorGpus > 0 ? 1 : 0);
        boolean dynamic = conf.getBoolean("spark.dynamicAllocation.enabled", false);
        TaskResourceRequests task = new TaskResourceRequests().cpus(executorCores);
        if (taskGpus > 0) {
            task.resource(Devices.GPU, taskGpus);
        }
        if (executorGpus > 0 && dynamic) {
            ExecutorResourceRequests executor = new ExecutorResourceRequests().cores(executorCores)
                    .resource(Devices.GPU, executorGpus, conf.get("spark.executor.resource.gpu.discoveryScript", ""),
                            conf.get("spark.executor.resource.gpu.vendor", "nvidia.com"));
            ResourceProfile profile = new ResourceProfileBuilder().require(executor).require(task).build();
            return new Plan(Kind.GPU_EXECUTOR_PROFILE, profile, "GPU executors for training: " + executorCores + " cores and "
                    + executorGpus + " GPU(s) each, one training task per executor");
        }
        if (conf.getInt("spark.task.cpus", 1) >= executorCores) {
            return new Plan(Kind.STATIC, null, "static executors with spark.task.cpus = spark.executor.cores = " + executorCores
                    + (taskGpus > 0 ? ", " + taskGpus + " GPU per task" : ""));
        }
        return new Plan(Kind.TASK_PROFILE, new ResourceProfileBuilder().require(task).build(), "training tasks take all "
                + executorCores + " cores of an executor" + (taskGpus > 0 ? " and " + taskGpus + " GPU" : ""));
    }

    /** {@code rdd} with the training profile attached where the conf calls for one. */
    static <T> JavaRDD<T> apply(JavaRDD<T> rdd, String stage) {
        Plan plan = plan(rdd.context().conf());
        if (plan.profile() == null) {
            return rdd;
        }
        try {
            JavaRDD<T> scheduled = rdd.withResources(plan.profile());
            logOnce(stage, plan.description());
            return scheduled;
        } catch (RuntimeException unsupported) {
            // E.g. GPU executor profiles without dynamic allocation support on this cluster manager.
            logOnce(stage, "this cluster manager does not support stage-level resource profiles ("
                    + unsupported.getMessage() + "); set spark.task.cpus = spark.executor.cores as conf/spark/gpu-cluster.conf does");
            return rdd;
        }
    }

    /** Every training job applies the plan; saying it once per application is enough. */
    private static void logOnce(String stage, String message) {
        if (LOGGED.add(message)) {
            StageContext.log(stage, message);
        }
    }
}
