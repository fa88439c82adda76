package org.sparsetransfer.jobs.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Credentials given as Spark or Hadoop properties (S3 keys, an Azure account key) appear nowhere a
 * run leaves text: not in its console output, not in any file of the warehouse (the runs table,
 * the Delta logs and every report file, the plots included), not in report --local-copy's copy.
 * The whole micro pipeline runs, so every stage and the report see the properties.
 */
@Tag("slow")
class SecretsIT {
    private static final Path ROOT = Path.of("").toAbsolutePath().getParent();
    private static final List<String> SECRETS = List.of("TOPSECRET-s3a-key-81f3", "AKIA-TOPSECRET-id-55c2", "TOPSECRET-azure-9d0e");

    @TempDir
    Path dir;

    @Test
    void credentialsInPropertiesReachNeitherTheLogsNorTheWarehouse() throws Exception {
        Path out = dir.resolve("wh");
        Path config = dir.resolve("micro.yaml");
        try (InputStream in = SecretsIT.class.getClassLoader().getResourceAsStream("sparse-transfer/bench-micro.yaml")) {
            Files.copy(in, config);
        }
        String pipeline = run("pipeline", "--config", config.toString(), "--out", out.toString());
        assertTrue(pipeline.contains("recorded as run"), "the run was recorded: " + pipeline);
        Path copy = dir.resolve("report-copy");
        run("report", "--config", config.toString(), "--out", out.toString(), "--local-copy", copy.toString());
        assertTrue(Files.isRegularFile(out.resolve("report/index.html")) && Files.isRegularFile(copy.resolve("transfer_table.md")),
                "the report and its copy were written");
        assertTrue(scan(out) > 10, "the warehouse was written");
        assertTrue(scan(copy) >= 4, "the report's copy was written");
    }

    /** Runs a command with the credentials as properties; its console output, checked to hold none of them. */
    private String run(String... command) throws Exception {
        List<String> args = new java.util.ArrayList<>(List.of(ROOT.resolve("bin/sparse-transfer").toString()));
        args.addAll(List.of(command));
        args.addAll(List.of("--master", "local[2]",
                "--conf", "spark.hadoop.fs.s3a.secret.key=" + SECRETS.get(0),
                "--conf", "spark.hadoop.fs.s3a.access.key=" + SECRETS.get(1),
                "--conf", "spark.hadoop.fs.azure.account.key.acct.dfs.core.windows.net=" + SECRETS.get(2)));
        Process process = new ProcessBuilder(args).redirectErrorStream(true).directory(dir.toFile()).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(10, TimeUnit.MINUTES));
        assertEquals(0, process.exitValue(), output);
        for (String secret : SECRETS) {
            assertFalse(output.contains(secret), "the console output of " + command[0] + " holds " + secret);
        }
        return output;
    }

    /** Checks that no file under {@code root} holds a secret; the number of files. */
    private static int scan(Path root) throws Exception {
        int files = 0;
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path file : walk.filter(Files::isRegularFile).toList()) {
                String bytes = new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1);
                for (String secret : SECRETS) {
                    assertFalse(bytes.contains(secret), file + " holds " + secret);
                }
                files++;
            }
        }
        return files;
    }
}
