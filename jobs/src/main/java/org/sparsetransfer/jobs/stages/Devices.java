package org.sparsetransfer.jobs.stages;

import ai.djl.Device;

/** The engine device a training task runs on. */
final class Devices {
    private Devices() {}

    /** CPU for now: GPU executors (issue: GPU executors) will pick the address Spark assigned. */
    static Device forTask() {
        return Device.cpu();
    }
}
