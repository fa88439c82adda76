package org.sparsetransfer.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.apache.commons.io.output.TeeOutputStream;
import org.sparsetransfer.jobs.cli.SparseTransferCli;

/** The command line, run in the test's JVM as a user runs it, its standard output captured. */
public final class InProcessCli {
    private InProcessCli() {
    }

    /** Runs the CLI in-process, returning what it printed on stdout (and echoing it). */
    public static String run(String... args) {
        PrintStream original = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setOut(new PrintStream(new TeeOutputStream(captured, original), true, StandardCharsets.UTF_8));
        try {
            int code = SparseTransferCli.execute(new SparseTransferCli(), args);
            assertEquals(0, code, "exit code of " + String.join(" ", args));
        } finally {
            System.setOut(original);
        }
        return captured.toString(StandardCharsets.UTF_8);
    }
}
