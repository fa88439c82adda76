package org.sparsetransfer.jobs.stages;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A report's files are published whole or not at all, and an interrupted publication is completed or discarded. */
class ReportPublicationTest {
    @TempDir
    Path dir;

    @Test
    void filesAppearOnlyOnCommitAndTheOldReportsLeftoversGo() throws IOException {
        publish("a.csv", "old a", "old.png", "old plot");
        ReportPublication next = ReportPublication.begin(dir);
        next.write("a.csv", "new a");
        next.write("b.md", "new b");
        next.seal();
        assertEquals("old a", Files.readString(dir.resolve("a.csv")), "nothing changes before the commit");
        assertFalse(Files.exists(dir.resolve("b.md")));

        next.commit();
        assertEquals("new a", Files.readString(dir.resolve("a.csv")));
        assertEquals("new b", Files.readString(dir.resolve("b.md")));
        assertFalse(Files.exists(dir.resolve("old.png")), "a file of the old report the new one lacks is removed");
        assertEquals(next.token(), ReportPublication.publishedToken(dir));
        assertEquals(List.of(".report-files", "a.csv", "b.md"), listing());
    }

    @Test
    void aReportKilledAfterItsDeltaCommitIsCompletedAndOneKilledBeforeIsDiscarded() throws IOException {
        publish("a.csv", "old a");
        ReportPublication committed = ReportPublication.begin(dir);
        committed.write("a.csv", "committed a");
        committed.seal();
        ReportPublication uncommitted = ReportPublication.begin(dir);
        uncommitted.write("a.csv", "uncommitted a");
        uncommitted.seal();
        // Both "killed" here: the Delta table's last commit recorded the first one's token.

        List<String> completed = ReportPublication.recover(dir, committed.token());
        assertEquals(List.of(committed.token()), completed);
        assertEquals("committed a", Files.readString(dir.resolve("a.csv")));
        assertEquals(committed.token(), ReportPublication.publishedToken(dir));
        assertEquals(List.of(".report-files", "a.csv"), listing(), "both staging folders are gone");

        ReportPublication failed = ReportPublication.begin(dir);
        failed.write("a.csv", "never");
        failed.discard();
        assertEquals("committed a", Files.readString(dir.resolve("a.csv")));
        assertTrue(ReportPublication.recover(dir, "another").isEmpty());
        assertEquals(List.of(".report-files", "a.csv"), listing());
    }

    @Test
    void aFirstReportThatFailsLeavesNoReportDirectory() {
        Path fresh = dir.resolve("report");
        ReportPublication first = ReportPublication.begin(fresh);
        first.write("a.csv", "never");
        first.discard();
        assertFalse(Files.exists(fresh));
    }

    private void publish(String... namesAndContents) {
        ReportPublication p = ReportPublication.begin(dir);
        for (int i = 0; i < namesAndContents.length; i += 2) {
            p.write(namesAndContents[i], namesAndContents[i + 1]);
        }
        p.seal();
        p.commit();
    }

    private List<String> listing() throws IOException {
        try (Stream<Path> entries = Files.list(dir)) {
            return entries.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }
}
