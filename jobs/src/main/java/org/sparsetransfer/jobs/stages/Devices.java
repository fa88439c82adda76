package org.sparsetransfer.jobs.stages;

import ai.djl.Device;
import ai.djl.engine.Engine;
import java.util.Map;
import org.apache.spark.TaskContext;
import org.apache.spark.resource.ResourceInformation;
import org.sparsetransfer.core.InvalidInputException;

/**
 * The engine device a training task runs on: the GPU Spark assigned to the task
 * ({@code spark.task.resource.gpu.amount}), else the CPU.
 */
final class Devices {
    static final String GPU = "gpu";

    private Devices() {}

    /** The device for the calling Spark task (CPU outside a task or without a GPU assignment). */
    static Device forTask() {
        TaskContext task = TaskContext.get();
        Map<String, ResourceInformation> resources = task == null ? Map.of() : task.resourcesJMap();
        return select(resources, resources.containsKey(GPU) ? Engine.getInstance().getGpuCount() : 0);
    }

    /**
     * The device for a task given Spark's resource assignment and how many GPUs libtorch sees.
     * A task that was given a GPU never silently falls back to the CPU.
     */
    static Device select(Map<String, ResourceInformation> resources, int engineGpus) {
        ResourceInformation gpus = resources.get(GPU);
        if (gpus == null || gpus.addresses().length == 0) {
            return Device.cpu();
        }
        String address = gpus.addresses()[0];
        int index;
        try {
            index = Integer.parseInt(address.strip());
        } catch (NumberFormatException e) {
            throw new InvalidInputException("Spark assigned GPU address '" + address + "', which is not a CUDA device index; "
                    + "make spark.executor.resource.gpu.discoveryScript print indices (0, 1, ...)");
        }
        if (engineGpus == 0) {
            throw new InvalidInputException("Spark assigned GPU " + index + " to this task, but the libtorch in this executor "
                    + "is the CPU build; point DJL at a CUDA 12.8 libtorch 2.7.1 on GPU nodes (PYTORCH_LIBRARY_PATH, "
                    + "PYTORCH_VERSION=2.7.1, PYTORCH_FLAVOR=cu128; see deploy/README.md)");
        }
        if (index >= engineGpus) {
            throw new InvalidInputException("Spark assigned GPU " + index + " but libtorch sees " + engineGpus
                    + " GPU(s); the discovery script and CUDA_VISIBLE_DEVICES must agree on device indices");
        }
        return Device.gpu(index);
    }
}
