package org.sparsetransfer.core.model;

import ai.djl.engine.Engine;
import ai.djl.pytorch.jni.JniUtils;
import java.util.concurrent.Callable;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The two facts about libtorch under DJL that every caller must respect (docs/design.md, "libtorch under DJL"):
 * grad mode is per thread and on by default, which breaks in-place updates of leaf tensors;
 * and DJL allows one gradient collector per JVM, so trainings in one JVM must take turns.
 */
public final class TorchThreads {
    private static final ReentrantLock TRAINING = new ReentrantLock(true);

    private TorchThreads() {}

    /** Turns autograd recording off on the calling thread (idempotent). */
    public static void disableGrad() {
        if ("PyTorch".equals(Engine.getInstance().getEngineName())) {
            JniUtils.setGradMode(false);
        }
    }

    /**
     * Runs {@code work} while holding the JVM-wide training lock, with grad mode off on this
     * thread. Seeding and initialization happen inside, so concurrent callers cannot disturb
     * each other's random streams.
     */
    public static <T> T exclusive(Callable<T> work) throws Exception {
        TRAINING.lock();
        try {
            disableGrad();
            return work.call();
        } finally {
            TRAINING.unlock();
        }
    }
}
