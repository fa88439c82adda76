package org.sparsetransfer.jobs.notebooks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The notes' structure without Spark; TinyPipelineTest runs their SQL against a real warehouse. */
class ZeppelinNotesTest {
    @TempDir
    Path tmp;

    @Test
    void theFourNotesAreWellFormedZeppelinNotes() throws Exception {
        List<Path> files = ZeppelinNotes.files();
        assertEquals(List.of("Compare Runs_2SPT4TRVL.zpln", "Method Comparison_2SPT2CMPR.zpln", "Transfer Table_2SPT1TBLE.zpln",
                "Upstream and Lineage_2SPT3LNGE.zpln"), files.stream().map(f -> f.getFileName().toString()).toList());
        for (Path file : files) {
            List<ZeppelinNotes.Paragraph> paragraphs = ZeppelinNotes.read(file);
            assertTrue(paragraphs.stream().anyMatch(p -> p.interpreter().equals("%md")), file + " explains itself");
            for (ZeppelinNotes.Paragraph p : paragraphs.stream().filter(p -> p.interpreter().equals("%spark.sql")).toList()) {
                assertTrue(p.body().contains("$${warehouse="), p.title() + " reads the warehouse from the note form");
                assertFalse(ZeppelinNotes.statements(p, Map.of()).isEmpty(), p.title());
            }
        }
        List<ZeppelinNotes.Paragraph> table = ZeppelinNotes.read(ZeppelinNotes.DIR.resolve("Transfer Table_2SPT1TBLE.zpln"));
        assertEquals(2, table.stream().filter(p -> p.graphModes().contains("lineChart") && p.body().contains("${task=")).count(),
                "a line chart per regime with the task form");
    }

    @Test
    void formsAreReplacedByTheirDefaultsOrByGivenValues() {
        ZeppelinNotes.Paragraph p = new ZeppelinNotes.Paragraph("n", "t", "%spark.sql",
                "-- comment; not a statement\nSELECT * FROM delta.`$${warehouse=/data/w}/runs` WHERE a = '${task=mnist,mnist|digits}'; SELECT ${v=3}", List.of("table"));
        assertEquals(List.of("SELECT * FROM delta.`/data/w/runs` WHERE a = 'mnist'", "SELECT 3"), ZeppelinNotes.statements(p, Map.of()));
        assertEquals("SELECT * FROM delta.`/x/runs` WHERE a = 'mnist'", ZeppelinNotes.statements(p, Map.of("warehouse", "/x")).get(0));
    }

    @Test
    void aBrokenNoteIsRejectedWithItsProblem() throws Exception {
        Path note = tmp.resolve("Broken_2SPT9XXXX.zpln");
        Files.writeString(note, Files.readString(ZeppelinNotes.DIR.resolve("Transfer Table_2SPT1TBLE.zpln"))
                .replace("\"name\": \"Transfer Table\"", "\"name\": \"Broken\"").replace("\"id\": \"2SPT1TBLE\"", "\"id\": \"2SPT9XXXX\"")
                .replace("\"mode\": \"lineChart\"", "\"mode\": \"sparkline\""));
        AssertionError e = assertThrows(AssertionError.class, () -> ZeppelinNotes.read(note));
        assertTrue(e.getMessage().contains("graph mode 'sparkline' is not one of Zeppelin's"), e.getMessage());
    }
}
