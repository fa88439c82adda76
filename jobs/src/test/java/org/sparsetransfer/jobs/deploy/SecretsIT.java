package org.sparsetransfer.jobs.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
 * run leaves text: not in its console output, not in any file of the warehouse (the runs table and
 * the Delta logs included).
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
        ProcessBuilder builder = new ProcessBuilder(ROOT.resolve("bin/sparse-transfer").toString(), "ingest",
                "--config", ROOT.resolve("conf/tiny.yaml").toString(), "--out", out.toString(), "--master", "local[1]",
                "--conf", "spark.hadoop.fs.s3a.secret.key=" + SECRETS.get(0),
                "--conf", "spark.hadoop.fs.s3a.access.key=" + SECRETS.get(1),
                "--conf", "spark.hadoop.fs.azure.account.key.acct.dfs.core.windows.net=" + SECRETS.get(2))
                .redirectErrorStream(true).directory(dir.toFile());
        Process process = builder.start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(10, TimeUnit.MINUTES));
        assertEquals(0, process.exitValue(), output);
        assertTrue(output.contains("recorded as run"), "the run was recorded: " + output);
        for (String secret : SECRETS) {
            assertFalse(output.contains(secret), "the console output holds " + secret);
        }
        int files = 0;
        try (Stream<Path> walk = Files.walk(out)) {
            for (Path file : walk.filter(Files::isRegularFile).toList()) {
                String bytes = new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1);
                for (String secret : SECRETS) {
                    assertFalse(bytes.contains(secret), file + " holds " + secret);
                }
                files++;
            }
        }
        assertTrue(files > 10, "the warehouse was written: " + files + " files");
    }
}
