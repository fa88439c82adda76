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
import org.apache.hadoop.conf.Configuration;
import org.sparsetransfer.jobs.storage.Location;
import org.sparsetransfer.jobs.storage.Storage;

/** A report's files are published whole or not at all, and an interrupted publication is completed or discarded. */
class ReportPublicationTest {
    private static final Storage STORAGE = new Storage(new Configuration());

    @TempDir
    Path dir;

    private static Location at(Path local) {
        return Location.local(local);
    }

    @Test
    void filesAppearOnlyOnCommitAndTheOldReportsLeftoversGo() throws IOException {
        publish("a.csv", "old a", "old.png", "old plot");
        ReportPublication next = ReportPublication.begin(STORAGE, at(dir));
        next.write("a.csv", "new a");
        next.write("b.md", "new b");
        next.seal();
        assertEquals("old a", Files.readString(dir.resolve("a.csv")), "nothing changes before the commit");
        assertEquals(List.of(".report-files", ".staging-" + next.token(), "a.csv", "old.png"), listing(),
                "sealed: the files wait in a staging folder of the warehouse, and no .crc files appear");
        assertFalse(Files.exists(dir.resolve("b.md")));

        next.commit();
        assertEquals("new a", Files.readString(dir.resolve("a.csv")));
        assertEquals("new b", Files.readString(dir.resolve("b.md")));
        assertFalse(Files.exists(dir.resolve("old.png")), "a file of the old report the new one lacks is removed");
        assertEquals(next.token(), ReportPublication.publishedToken(STORAGE, at(dir)));
        assertEquals(List.of(".report-files", "a.csv", "b.md"), listing());
    }

    @Test
    void aReportKilledAfterItsDeltaCommitIsCompletedAndOneKilledBeforeIsDiscarded() throws IOException {
        publish("a.csv", "old a");
        ReportPublication committed = ReportPublication.begin(STORAGE, at(dir));
        committed.write("a.csv", "committed a");
        committed.seal();
        ReportPublication uncommitted = ReportPublication.begin(STORAGE, at(dir));
        uncommitted.write("a.csv", "uncommitted a");
        uncommitted.seal();
        // Both "killed" here: the Delta table's last commit recorded the first one's token.

        List<String> completed = ReportPublication.recover(STORAGE, at(dir), committed.token());
        assertEquals(List.of(committed.token()), completed);
        assertEquals("committed a", Files.readString(dir.resolve("a.csv")));
        assertEquals(committed.token(), ReportPublication.publishedToken(STORAGE, at(dir)));
        assertEquals(List.of(".report-files", "a.csv"), listing(), "both staging folders are gone");

        ReportPublication failed = ReportPublication.begin(STORAGE, at(dir));
        failed.write("a.csv", "never");
        failed.discard();
        assertEquals("committed a", Files.readString(dir.resolve("a.csv")));
        assertTrue(ReportPublication.recover(STORAGE, at(dir), "another").isEmpty());
        assertEquals(List.of(".report-files", "a.csv"), listing());
    }

    @Test
    void aFirstReportThatFailsLeavesNoReportDirectory() {
        Path fresh = dir.resolve("report");
        ReportPublication first = ReportPublication.begin(STORAGE, at(fresh));
        first.write("a.csv", "never");
        first.discard();
        assertFalse(Files.exists(fresh));
    }

    private void publish(String... namesAndContents) {
        ReportPublication p = ReportPublication.begin(STORAGE, at(dir));
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
