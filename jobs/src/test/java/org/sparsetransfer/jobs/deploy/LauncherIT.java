package org.sparsetransfer.jobs.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The launcher checks its environment settings before it starts a JVM: one line, exit 2. And the
 * application's own classpath (no hadoop-aws, as a cluster without S3A has it) makes an s3a://
 * warehouse one line that says what to add. Both launchers bind the driver to loopback only for
 * masters on this machine.
 */
class LauncherIT {
    private static final Path LAUNCHER = Path.of("..", "bin", "sparse-transfer");

    @Test
    void badHeapAndThreadSettingsAreOneLine() throws Exception {
        assertEquals("error: SPARSE_TRANSFER_HEAP=lots is not a heap size; give e.g. 8g or 12000m",
                run("SPARSE_TRANSFER_HEAP", "lots"));
        assertEquals("error: SPARSE_TRANSFER_THREADS=0 is not a positive whole number of threads; give e.g. 4",
                run("SPARSE_TRANSFER_THREADS", "0"));
    }

    @Test
    void anS3aWarehouseWithoutHadoopAwsOnTheClasspathIsOneLineThatNamesThePackage() throws Exception {
        String output = run(null, null, "ingest", "--out", "s3a://bucket/wh", "--master", "local[1]");
        String error = output.lines().filter(l -> l.startsWith("error: ")).findFirst().orElseThrow(() -> new AssertionError(output));
        assertEquals("error: s3a://bucket/wh: the file system for scheme \"s3a\" is not on the classpath (Class "
                + "org.apache.hadoop.fs.s3a.S3AFileSystem not found); add hadoop-aws at the Hadoop client's version and the AWS SDK, e.g. "
                + "spark-submit --packages org.apache.hadoop:hadoop-aws:" + org.apache.hadoop.util.VersionInfo.getVersion()
                + " (deploy/README.md, S3)", error);
        assertEquals(1, output.lines().filter(l -> l.startsWith("error") || l.contains("Exception") || l.strip().startsWith("at ")).count(),
                "one error line, no stack trace: " + output);
    }

    @Test
    void theDriverBindsToLoopbackOnlyForMastersOnThisMachine() throws Exception {
        for (String master : java.util.List.of("local", "local[*]", "local-cluster[2,1,1024]", "spark://127.0.0.1:7077", "spark://localhost:7077")) {
            assertEquals("127.0.0.1", localIpFor(master, null), master);
        }
        for (String master : java.util.List.of("yarn", "k8s://https://10.0.0.1:6443", "spark://10.1.2.3:7077", "spark://master.example:7077")) {
            assertEquals("unset", localIpFor(master, null), master + ": executors elsewhere must reach the driver");
        }
        assertEquals("10.9.9.9", localIpFor("local[2]", "10.9.9.9"), "a SPARK_LOCAL_IP the user set stays");
    }

    /** SPARK_LOCAL_IP after the launchers' shared rule, for a master and the SPARK_LOCAL_IP set before it ("unset" if none). */
    private static String localIpFor(String master, String before) throws Exception {
        ProcessBuilder builder = new ProcessBuilder("bash", "-c",
                "source ../deploy/loopback-master.sh && bind_loopback_if_local_master \"$1\" && echo \"${SPARK_LOCAL_IP:-unset}\"", "_", master)
                .redirectErrorStream(true);
        builder.environment().remove("SPARK_LOCAL_IP");
        if (before != null) {
            builder.environment().put("SPARK_LOCAL_IP", before);
        }
        Process process = builder.start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        process.waitFor(30, TimeUnit.SECONDS);
        assertEquals(0, process.exitValue(), output);
        return output;
    }

    private static String run(String variable, String value) throws Exception {
        return run(variable, value, "models");
    }

    private static String run(String variable, String value, String... command) throws Exception {
        java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of(LAUNCHER.toString()));
        args.addAll(java.util.List.of(command));
        ProcessBuilder builder = new ProcessBuilder(args).redirectErrorStream(true);
        if (variable != null) {
            builder.environment().put(variable, value);
        }
        Process process = builder.start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        process.waitFor(60, TimeUnit.SECONDS);
        assertEquals(2, process.exitValue(), output);
        return output;
    }
}
