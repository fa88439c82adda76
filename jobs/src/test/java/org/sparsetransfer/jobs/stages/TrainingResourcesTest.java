package org.sparsetransfer.jobs.stages;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import java.util.Map;
import org.apache.spark.SparkConf;
import org.apache.spark.resource.ResourceInformation;
import org.apache.spark.resource.ResourceProfile;
import org.junit.jupiter.api.Test;
import org.sparsetransfer.core.InvalidInputException;

/** Device selection from Spark's (fake) GPU assignment, and how training stages ask for resources. */
class TrainingResourcesTest {

    @Test
    void aTaskRunsOnTheGpuSparkAssignedOrOnTheCpu() {
        assertEquals(Device.cpu(), Devices.select(Map.of(), 0));
        assertEquals(Device.cpu(), Devices.select(Map.of("fpga", gpus("0")), 2));
        assertEquals(Device.gpu(1), Devices.select(Map.of(Devices.GPU, gpus("1")), 2));
        assertEquals(Device.gpu(0), Devices.select(Map.of(Devices.GPU, gpus("0", "1")), 2), "the first of several");
    }

    @Test
    void aGpuAssignmentThatCannotBeHonouredFailsWithTheFix() {
        InvalidInputException cpuBuild = assertThrows(InvalidInputException.class,
                () -> Devices.select(Map.of(Devices.GPU, gpus("0")), 0));
        assertTrue(cpuBuild.getMessage().contains("PYTORCH_LIBRARY_PATH"), cpuBuild.getMessage());
        InvalidInputException tooFew = assertThrows(InvalidInputException.class,
                () -> Devices.select(Map.of(Devices.GPU, gpus("3")), 2));
        assertTrue(tooFew.getMessage().contains("libtorch sees 2 GPU(s)"), tooFew.getMessage());
        InvalidInputException notAnIndex = assertThrows(InvalidInputException.class,
                () -> Devices.select(Map.of(Devices.GPU, gpus("GPU-5fb4")), 1));
        assertTrue(notAnIndex.getMessage().contains("discoveryScript"), notAnIndex.getMessage());
    }

    @Test
    void localModeNeedsNoProfile() {
        TrainingResources.Plan plan = TrainingResources.plan(new SparkConf(false).set("spark.master", "local[4]"));
        assertEquals(TrainingResources.Kind.LOCAL, plan.kind());
        assertNull(plan.profile());
    }

    @Test
    void clusterTrainingTasksTakeAWholeExecutor() {
        SparkConf conf = new SparkConf(false).set("spark.master", "spark://127.0.0.1:7077").set("spark.executor.cores", "4");
        TrainingResources.Plan plan = TrainingResources.plan(conf);
        assertEquals(TrainingResources.Kind.TASK_PROFILE, plan.kind());
        assertEquals(4, plan.profile().taskResourcesJMap().get(ResourceProfile.CPUS()).amount(), 1e-9);
        assertTrue(plan.profile().executorResourcesJMap().isEmpty(), "keeps the cluster's executors");

        conf.set("spark.task.resource.gpu.amount", "1");
        assertEquals(1.0, TrainingResources.plan(conf).profile().taskResourcesJMap().get(Devices.GPU).amount(), 1e-9);

        conf.set("spark.task.cpus", "4");
        TrainingResources.Plan fixed = TrainingResources.plan(conf);
        assertEquals(TrainingResources.Kind.STATIC, fixed.kind(), "static fallback: spark.task.cpus = spark.executor.cores");
        assertNull(fixed.profile());
    }

    @Test
    void withDynamicAllocationTrainingAsksForItsOwnGpuExecutors() {
        SparkConf conf = new SparkConf(false).set("spark.master", "yarn").set("spark.executor.cores", "8")
                .set("spark.dynamicAllocation.enabled", "true").set(TrainingResources.EXECUTOR_GPUS, "1")
                .set("spark.executor.resource.gpu.discoveryScript", "/opt/spark/getGpusResources.sh");
        TrainingResources.Plan plan = TrainingResources.plan(conf);
        assertEquals(TrainingResources.Kind.GPU_EXECUTOR_PROFILE, plan.kind());
        assertEquals(1, plan.profile().executorResourcesJMap().get(Devices.GPU).amount());
        assertEquals("/opt/spark/getGpusResources.sh", plan.profile().executorResourcesJMap().get(Devices.GPU).discoveryScript());
        assertEquals(8, plan.profile().executorResourcesJMap().get(ResourceProfile.CORES()).amount());
        assertEquals(1.0, plan.profile().taskResourcesJMap().get(Devices.GPU).amount(), 1e-9);
        assertEquals(8, plan.profile().taskResourcesJMap().get(ResourceProfile.CPUS()).amount(), 1e-9);
    }

    private static ResourceInformation gpus(String... addresses) {
        return new ResourceInformation(Devices.GPU, addresses);
    }
}
