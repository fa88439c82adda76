package org.sparsetransfer.jobs.stages;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleFunction;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.markers.SeriesMarkers;
import org.sparsetransfer.core.config.ExperimentConfig;

/**
 * The report's PNG plots (XChart): per regime and task, transfer accuracy vs sparsity with one
 * line per method and dense as a reference line; per regime the mean over tasks; and upstream
 * accuracy vs sparsity per method.
 */
final class ReportPlots {
    /** The dense baseline's method key: every delta is against it. */
    private static final String DENSE = org.sparsetransfer.core.method.PruningMethods.dense().key();
    private static final int WIDTH = 720;
    private static final int HEIGHT = 480;

    private final ExperimentConfig config;
    private final List<ReportStage.Cell> cells;
    private final List<CheckpointRecord> checkpoints;

    ReportPlots(ExperimentConfig config, List<ReportStage.Cell> cells, List<CheckpointRecord> checkpoints) {
        this.config = config;
        // Nothing to plot for cells without a mean; the controls all sit at sparsity 0 (the tables compare them).
        this.cells = cells.stream().filter(c -> c.hasMean() && !c.control()).toList();
        this.checkpoints = checkpoints;
    }

    /** Writes every plot into {@code dir}; returns their file names in display order. */
    List<String> writeAll(Path dir) {
        List<String> files = new ArrayList<>();
        for (String regime : config.transfer.regimes) {
            files.add(write(dir, "mean_" + regime + ".png", meanOverTasks(regime)));
            for (String task : config.transfer.tasks) {
                files.add(write(dir, regime + "_" + task + ".png", perTask(regime, task)));
            }
        }
        if (checkpoints.stream().anyMatch(r -> !Double.isNaN(r.upstreamTop1()))) { // a transfer-only experiment has none
            files.add(write(dir, "upstream.png", upstream()));
        }
        return files;
    }

    private XYChart perTask(String regime, String task) {
        List<ReportStage.Cell> mine = cells.stream().filter(c -> c.regime().equals(regime) && c.task().equals(task)).toList();
        String metric = mine.isEmpty() ? "" : mine.get(0).metric();
        XYChart chart = chart(task + " (" + regime + " finetuning)", metric + " (%)");
        byMethod(mine).forEach((method, points) -> {
            if (method.equals(DENSE)) {
                denseLine(chart, points.get(0).mean());
            } else {
                XYSeries series = chart.addSeries(method, points.stream().mapToDouble(ReportStage.Cell::sparsity).toArray(),
                        points.stream().mapToDouble(ReportStage.Cell::mean).toArray(),
                        points.stream().mapToDouble(c -> c.std() == null ? 0 : c.std()).toArray());
                series.setMarker(SeriesMarkers.CIRCLE);
            }
        });
        return chart;
    }

    private XYChart meanOverTasks(String regime) {
        XYChart chart = chart("Mean over tasks (" + regime + " finetuning)", "accuracy (%)");
        Map<String, List<ReportStage.Cell>> methods = byMethod(cells.stream().filter(c -> c.regime().equals(regime)).toList());
        methods.forEach((method, points) -> {
            Map<Double, double[]> sums = new LinkedHashMap<>(); // sparsity -> {sum, count}
            points.forEach(c -> sums.computeIfAbsent(c.sparsity(), s -> new double[2])[0] += c.mean());
            points.forEach(c -> sums.get(c.sparsity())[1]++);
            double[] x = sums.keySet().stream().mapToDouble(Double::doubleValue).toArray();
            double[] y = sums.values().stream().mapToDouble(v -> v[0] / v[1]).toArray();
            if (method.equals(DENSE)) {
                denseLine(chart, y[0]);
            } else {
                chart.addSeries(method, x, y).setMarker(SeriesMarkers.CIRCLE);
            }
        });
        return chart;
    }

    private XYChart upstream() {
        XYChart chart = chart("Upstream accuracy (Fashion-MNIST test)", "top-1 (%)");
        Map<String, List<CheckpointRecord>> methods = new LinkedHashMap<>();
        // Imported checkpoints have no upstream accuracy here.
        checkpoints.stream().filter(r -> !Double.isNaN(r.upstreamTop1()) && !ReportCells.isControl(r))
                .forEach(r -> methods.computeIfAbsent(r.method(), m -> new ArrayList<>()).add(r));
        methods.forEach((method, records) -> {
            if (method.equals(DENSE)) {
                denseLine(chart, records.get(0).upstreamTop1());
            } else {
                chart.addSeries(method, values(records, CheckpointRecord::actualSparsity), values(records, CheckpointRecord::upstreamTop1))
                        .setMarker(SeriesMarkers.CIRCLE);
            }
        });
        return chart;
    }

    private XYChart chart(String title, String yTitle) {
        XYChart chart = new XYChartBuilder().width(WIDTH).height(HEIGHT).title(title).xAxisTitle("sparsity").yAxisTitle(yTitle)
                .build();
        chart.getStyler().setChartBackgroundColor(java.awt.Color.WHITE);
        chart.getStyler().setLegendPosition(org.knowm.xchart.style.Styler.LegendPosition.OutsideE);
        chart.getStyler().setDecimalPattern("#0.00");
        return chart;
    }

    /** Dense as a dashed horizontal line across the sparsities of the config. */
    private void denseLine(XYChart chart, double value) {
        double lo = config.pruning.sparsities.stream().mapToDouble(Double::doubleValue).min().orElse(0);
        double hi = config.pruning.sparsities.stream().mapToDouble(Double::doubleValue).max().orElse(1);
        XYSeries dense = chart.addSeries(DENSE, new double[] {lo, hi}, new double[] {value, value});
        dense.setMarker(SeriesMarkers.NONE);
        dense.setLineStyle(new java.awt.BasicStroke(2f, java.awt.BasicStroke.CAP_BUTT, java.awt.BasicStroke.JOIN_MITER, 10f,
                new float[] {6f, 4f}, 0f));
        dense.setLineColor(java.awt.Color.DARK_GRAY);
    }

    private static Map<String, List<ReportStage.Cell>> byMethod(List<ReportStage.Cell> cells) {
        Map<String, List<ReportStage.Cell>> methods = new LinkedHashMap<>();
        cells.forEach(c -> methods.computeIfAbsent(c.method(), m -> new ArrayList<>()).add(c));
        return methods;
    }

    private static double[] values(List<CheckpointRecord> records, ToDoubleFunction<CheckpointRecord> f) {
        return records.stream().mapToDouble(f).toArray();
    }

    /** Writes one plot; the directory is the report's staging folder, published as a whole ({@link ReportPublication}). */
    private static String write(Path dir, String name, XYChart chart) {
        try {
            Files.createDirectories(dir);
            // saveBitmap appends ".png" when the name lacks it; ours ends with it already.
            BitmapEncoder.saveBitmap(chart, dir.resolve(name).toString(), BitmapEncoder.BitmapFormat.PNG);
            return name;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
