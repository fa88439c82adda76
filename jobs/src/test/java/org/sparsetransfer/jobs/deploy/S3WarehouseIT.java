package org.sparsetransfer.jobs.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.commons.io.output.TeeOutputStream;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.sparsetransfer.core.config.ConfigLoader;
import org.sparsetransfer.core.config.ExperimentConfig;
import org.sparsetransfer.jobs.InProcessCli;
import org.sparsetransfer.jobs.cli.SparseTransferCli;
import org.sparsetransfer.jobs.spark.SparkSessions;
import org.sparsetransfer.jobs.storage.Storage;
import org.sparsetransfer.jobs.tables.Warehouse;

/**
 * The tiny experiment (at one of its sparsities) with its warehouse on an S3-compatible server
 * (deploy/s3: s3rver on 127.0.0.1) through S3A, hadoop-aws and the AWS SDK on the classpath as a
 * cluster provides them, with the settings deploy/README.md gives for such a server: Delta's tables,
 * the runs and the report all on S3; read back from there; a rerun finds every stage done; the
 * credentials appear neither in the output nor in the runs table.
 */
@Tag("slow")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class S3WarehouseIT {
    /** s3rver's one account: its access key and its secret key are both this. */
    private static final String ACCOUNT = "S3RVER";
    private Path work;
    private LoopbackServer s3;
    private Map<String, String> s3aSettings;

    @BeforeAll
    void startS3() throws Exception {
        work = Files.createTempDirectory("s3-it");
        s3 = new LoopbackServer("s3", work.resolve("s3"), "http://127\\.0\\.0\\.1:\\d+");
        s3aSettings = new LinkedHashMap<>();
        s3aSettings.put("spark.hadoop.fs.s3a.endpoint", s3.uri());
        s3aSettings.put("spark.hadoop.fs.s3a.endpoint.region", "us-east-1");
        s3aSettings.put("spark.hadoop.fs.s3a.path.style.access", "true");
        s3aSettings.put("spark.hadoop.fs.s3a.signing-algorithm", "AWS4UnsignedPayloadSignerType");
        s3aSettings.put("spark.hadoop.fs.s3a.access.key", ACCOUNT);
        s3aSettings.put("spark.hadoop.fs.s3a.secret.key", ACCOUNT);
        // The AWS SDK's own setting (a system property; spark.{driver,executor}.extraJavaOptions on a
        // cluster): s3rver stores aws-chunked bodies as sent, checksum trailers included.
        System.setProperty("aws.requestChecksumCalculation", "when_required");
    }

    @AfterAll
    void stopS3() throws Exception {
        System.clearProperty("aws.requestChecksumCalculation");
        if (s3 != null) {
            s3.close();
        }
        org.apache.commons.io.FileUtils.deleteQuietly(work.toFile());
    }

    @Test
    void tinyExperimentWithItsWarehouseOnS3() throws Exception {
        Path configFile = TinyAtOneSparsity.write(work);
        ExperimentConfig config = ConfigLoader.load(configFile);
        String out = "s3a://warehouse/experiments/tiny";

        PrintStream originalErr = System.err;
        ByteArrayOutputStream errors = new ByteArrayOutputStream();
        System.setErr(new PrintStream(new TeeOutputStream(errors, originalErr), true, StandardCharsets.UTF_8));
        String first;
        try {
            first = InProcessCli.run(command("pipeline", configFile, out));
        } finally {
            System.setErr(originalErr);
        }
        assertTrue(first.contains("[report] "), first);
        // S3A offers no exclusive create: the run takes no lock and says so, naming the warehouse.
        assertTrue(errors.toString(StandardCharsets.UTF_8).contains("warning: " + out
                + " is on an object store, which offers no exclusive create, so this run takes no lock"), errors.toString(StandardCharsets.UTF_8));

        SparkSession reader = SparkSessions.create("test", "local[1]", s3aSettings);
        try {
            Warehouse warehouse = Warehouse.parse(out);
            TinyAtOneSparsity.assertOneSuccessPerRun(reader.read().format("delta").load(warehouse.transferResults()), config);
            List<Row> recorded = reader.read().format("delta").load(warehouse.runs()).collectAsList();
            assertFalse(recorded.isEmpty(), "the runs are recorded on S3");
            for (Row row : recorded) {
                assertFalse(row.toString().contains(ACCOUNT), "the runs table holds no credential: " + row);
            }
            // The report, read back from S3 with the session's S3A settings.
            TinyAtOneSparsity.assertCompleteReport(Storage.of(reader), out, config);
        } finally {
            reader.stop();
        }

        String again = InProcessCli.run(command("pipeline", configFile, out));
        TinyAtOneSparsity.assertRerunSkipsEverything(again, config);
        assertFalse(first.contains(ACCOUNT) || again.contains(ACCOUNT), "the output holds no credential");
    }

    @Test
    void aBucketThatDoesNotExistIsOneErrorThatNamesIt() {
        StringWriter err = new StringWriter();
        int code = SparseTransferCli.execute(new SparseTransferCli(), new PrintWriter(err, true),
                command("ingest", LoopbackServer.ROOT.resolve("conf/tiny.yaml"), "s3a://no-such-bucket/wh"));
        String message = err.toString().strip();
        assertEquals(SparseTransferCli.EXIT_BAD_INPUT, code, message);
        assertEquals(1, message.lines().count(), "one line: " + message);
        assertEquals("error: --out s3a://no-such-bucket/wh: bucket no-such-bucket does not exist; create it, or check the bucket's name"
                + " and the endpoint", message);
    }

    private String[] command(String name, Path config, String out) {
        List<String> args = new ArrayList<>(List.of(name, "--config", config.toString(), "--out", out, "--master", "local[2]"));
        s3aSettings.forEach((k, v) -> args.addAll(List.of("--conf", k + "=" + v)));
        return args.toArray(String[]::new);
    }
}
