package org.sparsetransfer.jobs.deploy;

import java.nio.file.Path;

/** A real HDFS on 127.0.0.1, started and stopped by deploy/hdfs/start-hdfs.sh and stop-hdfs.sh. */
public final class LoopbackHdfs extends LoopbackServer {
    private LoopbackHdfs(Path state) throws Exception {
        super("hdfs", state, "hdfs://127\\.0\\.0\\.1:\\d+");
    }

    public static LoopbackHdfs start(Path state) throws Exception {
        return new LoopbackHdfs(state);
    }
}
