package org.sparsetransfer.jobs.stages;

import org.sparsetransfer.core.method.MethodFamily;
import org.sparsetransfer.core.method.PruningMethods;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sparsetransfer.core.config.ExperimentConfig;

/** The report's significance marks, plots and page, from hand-made cells (no Spark). */
class ReportOutputsTest {
    @TempDir
    Path dir;

    @Test
    void welchTestAgreesWithTheTextbookAndSaysWhenItIsUndefined() {
        // t = -3 / sqrt(1/3 + 1/3) = -3.674 with 4 degrees of freedom: p = 0.0213
        assertEquals(0.0213, Significance.welchP(new double[] {1, 2, 3}, new double[] {4, 5, 6}), 1e-4);
        assertTrue(Significance.welchP(new double[] {1, 2, 3}, new double[] {1.5, 2.5, 2}) > 0.5);
        assertNull(Significance.welchP(new double[] {1}, new double[] {4, 5}), "one seed: no test");
        assertNull(Significance.welchP(new double[] {2, 2}, new double[] {2, 2}), "no variance: no test");
    }

    @Test
    void markdownMarksOnlySignificantCellsAndPlotsAndPageAreWritten() throws Exception {
        ExperimentConfig config = oneshotOnMnist(0.8, 0.9);
        List<ReportStage.Cell> cells = new ArrayList<>();
        cells.add(cell("dense", 0.0, 90.0, null));
        cells.add(cell("oneshot", 0.8, 89.9, 0.6));
        cells.add(cell("oneshot", 0.9, 80.0, 0.001));

        String md = ReportStage.markdown(config, cells, List.of(), COMPLETE);
        assertTrue(md.contains("| oneshot | 0.90 | 80.00 ± 1.00 * |"), md);
        assertTrue(md.contains("| oneshot | 0.80 | 89.90 ± 1.00 |"), md);

        List<String> plots = new ReportPlots(config, cells, List.of()).writeAll(dir);
        assertEquals(List.of("mean_linear.png", "linear_mnist.png"), plots, "no checkpoint given: no upstream accuracy to plot");
        for (String plot : plots) {
            BufferedImage image = ImageIO.read(dir.resolve(plot).toFile());
            assertEquals(720, image.getWidth(), plot);
        }
        String html = ReportHtml.page(config, cells, List.of(), plots, COMPLETE);
        assertTrue(html.contains("<td class=\"sig\" title=\"p = 0.00100\">80.00 ± 1.00</td>"), html);
        assertTrue(html.contains("<img src=\"linear_mnist.png\""), html);
        assertTrue(Files.size(dir.resolve("linear_mnist.png")) > 1000);
    }

    @Test
    void aCellWhoseRunsAllFailedIsMarkedNotPlottedAndLeftOutOfMeans() throws Exception {
        ExperimentConfig config = oneshotOnMnist(0.8);
        ReportStage.Cell failed = new ReportStage.Cell("oneshot", 0.8, "linear", "mnist", "top1", Double.NaN, null, 0, null, 2,
                new double[0], null, 0, MethodFamily.MAGNITUDE);
        List<ReportStage.Cell> cells = List.of(cell("dense", 0.0, 90.0, null), failed);

        String md = ReportStage.markdown(config, cells, List.of(), COMPLETE);
        assertTrue(md.contains("| oneshot | 0.80 | failed (2 of 2 runs) | – | – |"), md);
        String csv = ReportStage.csv(cells);
        assertTrue(csv.contains("oneshot,0.8000,linear,mnist,top1,,,0,,2,0,magnitude\n"), csv);
        assertTrue(ReportHtml.page(config, cells, List.of(), List.of(), COMPLETE).contains("<td class=\"failed\">failed (2 of 2 runs)</td>"));
        List<String> plots = new ReportPlots(config, cells, List.of()).writeAll(dir);
        assertEquals(2, plots.size());
    }

    @Test
    void aPartialReportSaysSoInEveryFormatAndMarksTheCellsLackingRuns() {
        ExperimentConfig config = oneshotOnMnist(0.8, 0.9);
        ReportStage.Missing missing = new ReportStage.Missing(6, java.util.Map.of("oneshot|0.90|linear|mnist", 2L,
                "oneshot|0.80|linear|mnist", 1L));
        ReportStage.Cell half = new ReportStage.Cell("oneshot", 0.8, "linear", "mnist", "top1", 88.0, null, 1, -2.0, 0,
                new double[] {88.0}, null, 1, MethodFamily.MAGNITUDE);
        ReportStage.Cell none = new ReportStage.Cell("oneshot", 0.9, "linear", "mnist", "top1", Double.NaN, null, 0, null, 0,
                new double[0], null, 2, MethodFamily.MAGNITUDE);
        List<ReportStage.Cell> cells = List.of(cell("dense", 0.0, 90.0, null), half, none);

        String md = ReportStage.markdown(config, cells, List.of(), missing);
        assertTrue(md.contains("**PARTIAL REPORT** (written with --allow-incomplete): 3 of 6 configured transfer runs have no "
                + "result, in 2 cells"), md);
        assertTrue(md.contains("| oneshot | 0.80 | 88.00 (1 missing) |"), md);
        assertTrue(md.contains("| oneshot | 0.90 | missing (2 of 2 runs) | – | – |"), md);
        String html = ReportHtml.page(config, cells, List.of(), List.of(), missing);
        assertTrue(html.contains("<p class=\"partial\"><b>Partial report</b>"), html);
        assertTrue(html.contains("<td class=\"missing\">missing (2 of 2 runs)</td>"), html);
        String csv = ReportStage.csv(cells);
        assertTrue(csv.startsWith(String.join(",", ReportStage.CSV_COLUMNS) + "\n"), csv);
        assertTrue(csv.contains("oneshot,0.8000,linear,mnist,top1,88.0000,,1,-2.0000,0,1,magnitude\n"), csv);
        assertTrue(csv.contains("oneshot,0.9000,linear,mnist,top1,,,0,,0,2,magnitude\n"), csv);
        assertFalse(ReportStage.markdown(config, List.of(cell("dense", 0.0, 90.0, null)), List.of(), COMPLETE).contains("PARTIAL"));
    }

    private static final ReportStage.Missing COMPLETE = new ReportStage.Missing(2, java.util.Map.of());

    /** Dense and one-shot at {@code sparsities}, transferred to mnist in the linear regime. */
    private static ExperimentConfig oneshotOnMnist(Double... sparsities) {
        ExperimentConfig config = new ExperimentConfig();
        config.transfer.tasks = List.of("mnist");
        config.transfer.regimes = List.of("linear");
        config.pruning.methods = List.of("dense", "oneshot");
        config.pruning.sparsities = List.of(sparsities);
        return config;
    }

    private static ReportStage.Cell cell(String method, double sparsity, double mean, Double p) {
        return new ReportStage.Cell(method, sparsity, "linear", "mnist", "top1", mean, 1.0, 2, mean - 90.0, 0,
                new double[] {mean - 0.7, mean + 0.7}, p, 0, PruningMethods.byKey(method, "test").family());
    }
}
