package org.sparsetransfer.jobs.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Airflow DAG checked by deploy/airflow/check_dag.py with the machine's Python (no Airflow):
 * argument names, main classes in the built application jar, task ids and the dependency chain.
 */
class AirflowDagIT {
    private static final Path ROOT = Path.of("").toAbsolutePath().getParent();
    private static final Path DAG = ROOT.resolve("deploy/airflow/sparse_transfer_dag.py");
    private static final Path JAR = ROOT.resolve("jobs/target/sparse-transfer-app.jar");

    @TempDir
    Path tmp;

    @Test
    void theDagPassesTheCheck() throws Exception {
        Result r = check(DAG);
        assertEquals(0, r.code, r.output);
        // The prune tasks are conf/tiny.yaml's plan's methods, in its order, from the application's plan --json.
        assertTrue(r.output.contains("OK (13 tasks: ingest, upstream, prune_oneshot, prune_gmp, prune_gmp_star, prune_imp, prune_colt, "
                + "prune_acdc, prune_rigl, prune_nm, control, transfer, report)"), r.output);
    }

    @Test
    void theCheckCatchesAWrongArgumentAClassNotInTheJarAndACycle() throws Exception {
        String dag = Files.readString(DAG)
                .replace("deploy_mode=\"client\",", "deploy_mode=\"client\", executor_mem=\"1g\",")
                .replace("MAIN_CLASS = \"org.sparsetransfer.jobs.cli.SparseTransferCli\"", "MAIN_CLASS = \"org.sparsetransfer.jobs.cli.Missing\"")
                .replace("transfer >> report", "transfer >> report >> upstream");
        Path broken = tmp.resolve("broken_dag.py");
        Files.writeString(broken, dag);
        Result r = check(broken);
        assertEquals(1, r.code, r.output);
        assertTrue(r.output.contains("SparkSubmitOperator has no argument 'executor_mem'"), r.output);
        assertTrue(r.output.contains("java_class org.sparsetransfer.jobs.cli.Missing is not in"), r.output);
        assertTrue(r.output.contains("unexpected dependency report >> upstream"), r.output);
        assertTrue(r.output.contains("the dependencies have a cycle"), r.output);
    }

    private record Result(int code, String output) {}

    private static Result check(Path dag) throws IOException, InterruptedException {
        ProcessBuilder builder = new ProcessBuilder("python3", ROOT.resolve("deploy/airflow/check_dag.py").toString(), dag.toString(),
                JAR.toString()).redirectErrorStream(true);
        builder.environment().put("SPARSE_TRANSFER_CONFIG", ROOT.resolve("conf/tiny.yaml").toString());
        // No spark-submit here: the checkout's launcher runs the same plan command.
        builder.environment().put("SPARSE_TRANSFER_PLAN_COMMAND", ROOT.resolve("bin/sparse-transfer").toString());
        Process p = builder.start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(180, TimeUnit.SECONDS), "check_dag.py finished");
        return new Result(p.exitValue(), output);
    }
}
