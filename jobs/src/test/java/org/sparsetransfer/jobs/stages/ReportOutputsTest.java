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
    void holmBonferroniAgreesWithTheTextbook() {
        // Holm's example (1979, as Wright 1992 tabulates it): p = 0.01, 0.04, 0.03, 0.005 -> 0.03, 0.06, 0.06, 0.02.
        Double[] adjusted = Significance.holm(new Double[] {0.01, 0.04, 0.03, 0.005});
        assertEquals(0.03, adjusted[0], 1e-12);
        assertEquals(0.06, adjusted[1], 1e-12);
        assertEquals(0.06, adjusted[2], 1e-12, "made monotone: max(2 x 0.03, the one before)");
        assertEquals(0.02, adjusted[3], 1e-12);
        // Untested comparisons are not counted; adjusted values are capped at 1.
        Double[] withNulls = Significance.holm(new Double[] {null, 0.2, 0.5, null});
        assertNull(withNulls[0]);
        assertEquals(0.4, withNulls[1], 1e-12);
        assertEquals(0.5, withNulls[2], 1e-12);
        assertEquals(1.0, Significance.holm(new Double[] {0.6, 0.7})[0], 1e-12);
    }

    @Test
    void mcNemarsExactTestAgreesWithTheBinomial() {
        // 20 examples: a right on 10 that b gets wrong, b right on 2 that a gets wrong, the rest agree.
        java.util.BitSet a = new java.util.BitSet();
        java.util.BitSet b = new java.util.BitSet();
        for (int i = 0; i < 10; i++) {
            a.set(i);
        }
        b.set(10);
        b.set(11);
        for (int i = 12; i < 16; i++) {
            a.set(i);
            b.set(i);
        }
        // Two-sided exact: 2 * P(X <= 2 | n = 12, p = 1/2) = 2 * 79 / 4096 = 0.03857.
        assertEquals(2 * 79 / 4096.0, Significance.mcnemarP(a.toByteArray(), java.util.Arrays.copyOf(b.toByteArray(), 2), 20), 1e-12);
        assertEquals(1.0, Significance.mcnemarP(a.toByteArray(), a.toByteArray(), 16), "the same predictions");
    }

    @Test
    void markdownMarksOnlySignificantCellsAndPlotsAndPageAreWritten() throws Exception {
        ExperimentConfig config = oneshotOnMnist(0.8, 0.9);
        List<ReportStage.Cell> cells = new ArrayList<>();
        cells.add(cell("dense", 0.0, 90.0, null));
        cells.add(cell("oneshot", 0.8, 89.9, 0.03)); // significant alone, not after Holm's correction (0.06)
        cells.add(cell("oneshot", 0.9, 80.0, 0.001));

        String md = ReportStage.markdown(config, cells, List.of(), COMPLETE);
        assertTrue(md.contains("| oneshot | 0.90 | 200 | 25,600 | 80.00 ± 1.00 * |"), md);
        assertTrue(md.contains("| oneshot | 0.80 | 200 | 25,600 | 89.90 ± 1.00 |"), "marked by the adjusted p-value only: " + md);
        assertTrue(md.contains("after Holm-Bonferroni correction"), md);
        assertTrue(md.contains("## Findings"), md);
        assertTrue(md.contains("- Against dense, after Holm-Bonferroni correction over the 2 comparisons with a test: 0 cells significantly "
                + "above (none), 1 significantly below (oneshot 0.90 on mnist -10.00)."), md);
        assertTrue(md.contains("- Mean Δ vs dense over tasks as sparsity grows: oneshot -0.10 at 0.80, -10.00 at 0.90."), md);

        List<String> plots = new ReportPlots(config, cells, List.of()).writeAll(dir);
        assertEquals(List.of("mean_linear.png", "linear_mnist.png"), plots, "no checkpoint given: no upstream accuracy to plot");
        for (String plot : plots) {
            BufferedImage image = ImageIO.read(dir.resolve(plot).toFile());
            assertEquals(720, image.getWidth(), plot);
        }
        String html = ReportHtml.page(config, cells, List.of(), plots, COMPLETE);
        assertTrue(html.contains("<td class=\"sig\" title=\"vs dense: welch p = 0.00100, Holm 0.00200\">80.00 ± 1.00 *</td>"), html);
        assertTrue(html.contains("<h2>Findings</h2>"), html);
        assertTrue(html.contains("<img src=\"linear_mnist.png\""), html);
        assertTrue(Files.size(dir.resolve("linear_mnist.png")) > 1000);
    }

    @Test
    void aCellWhoseRunsAllFailedIsMarkedNotPlottedAndLeftOutOfMeans() throws Exception {
        ExperimentConfig config = oneshotOnMnist(0.8);
        ReportStage.Cell failed = cell("oneshot", 0.8, Double.NaN, null, 0, 2, 0);
        List<ReportStage.Cell> cells = List.of(cell("dense", 0.0, 90.0, null), failed);

        String md = ReportStage.markdown(config, cells, List.of(), COMPLETE);
        assertTrue(md.contains("| oneshot | 0.80 | 200 | 25,600 | failed (2 of 2 runs) | – | – |"), md);
        String csv = ReportStage.csv(cells);
        assertTrue(csv.contains("oneshot,0.8000,linear,mnist,top1,,,0,,2,0,magnitude,,,,,,,,200,25600,0\n"), csv);
        assertTrue(ReportHtml.page(config, cells, List.of(), List.of(), COMPLETE).contains("<td class=\"failed\">failed (2 of 2 runs)</td>"));
        List<String> plots = new ReportPlots(config, cells, List.of()).writeAll(dir);
        assertEquals(2, plots.size());
    }

    @Test
    void aPartialReportSaysSoInEveryFormatAndMarksTheCellsLackingRuns() {
        ExperimentConfig config = oneshotOnMnist(0.8, 0.9);
        ReportStage.Missing missing = new ReportStage.Missing(6, java.util.Map.of("oneshot|0.90|linear|mnist", 2L,
                "oneshot|0.80|linear|mnist", 1L));
        ReportStage.Cell half = cell("oneshot", 0.8, 88.0, null, 1, 0, 1);
        ReportStage.Cell none = cell("oneshot", 0.9, Double.NaN, null, 0, 0, 2);
        List<ReportStage.Cell> cells = List.of(cell("dense", 0.0, 90.0, null), half, none);

        String md = ReportStage.markdown(config, cells, List.of(), missing);
        assertTrue(md.contains("**PARTIAL REPORT** (written with --allow-incomplete): 3 of 6 configured transfer runs have no "
                + "result, in 2 cells"), md);
        assertTrue(md.contains("| oneshot | 0.80 | 200 | 25,600 | 88.00 (1 missing) |"), md);
        assertTrue(md.contains("| oneshot | 0.90 | 200 | 25,600 | missing (2 of 2 runs) | – | – |"), md);
        String html = ReportHtml.page(config, cells, List.of(), List.of(), missing);
        assertTrue(html.contains("<p class=\"partial\"><b>Partial report</b>"), html);
        assertTrue(html.contains("<td class=\"missing\">missing (2 of 2 runs)</td>"), html);
        String csv = ReportStage.csv(cells);
        assertTrue(csv.startsWith(String.join(",", ReportStage.CSV_COLUMNS) + "\n"), csv);
        assertTrue(csv.contains("oneshot,0.8000,linear,mnist,top1,88.0000,,1,-2.0000,0,1,magnitude,,,,,,,,200,25600,0\n"), csv);
        assertTrue(csv.contains("oneshot,0.9000,linear,mnist,top1,,,0,,0,2,magnitude,,,,,,,,200,25600,0\n"), csv);
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

    /** A cell of two seeds (mean ± 0.7) on mnist, linear; its Holm-adjusted p-value as for a family of two comparisons. */
    private static ReportStage.Cell cell(String method, double sparsity, double mean, Double p) {
        ReportStage.Comparison vsDense = method.equals("dense") ? new ReportStage.Comparison("dense", 0.0, null, null, null)
                : new ReportStage.Comparison("dense", mean - 90.0, p, "welch", p == null ? null : Math.min(1, 2 * p));
        return new ReportStage.Cell(method, sparsity, "linear", "mnist", "top1", PruningMethods.byKey(method, "test").family(),
                method.equals("dense") ? 1287 : 200, method.equals("dense") ? 164_736 : 25_600, false, mean, 1.0, 2,
                new double[] {mean - 0.7, mean + 0.7}, 0, 0, 0, vsDense, ReportStage.Comparison.NONE);
    }

    private static ReportStage.Cell cell(String method, double sparsity, double mean, Double std, long nSeeds, long failed,
            long missing) {
        return new ReportStage.Cell(method, sparsity, "linear", "mnist", "top1", MethodFamily.MAGNITUDE, 200, 25_600, false, mean, std,
                nSeeds, nSeeds == 0 ? new double[0] : new double[] {mean}, failed, missing, 0,
                new ReportStage.Comparison("dense", Double.isNaN(mean) ? null : mean - 90.0, null, null, null), ReportStage.Comparison.NONE);
    }
}
