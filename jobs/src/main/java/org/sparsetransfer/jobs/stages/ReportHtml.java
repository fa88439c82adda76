package org.sparsetransfer.jobs.stages;

import java.util.List;
import java.util.Locale;
import org.sparsetransfer.core.config.ExperimentConfig;
import org.sparsetransfer.core.task.TaskRegistry;

/** {@code report/index.html}: the tables (mean ± std, significance marked) and the plots, in one page. */
final class ReportHtml {
    private ReportHtml() {}

    static String page(ExperimentConfig config, List<ReportStage.Cell> cells, List<CheckpointRecord> checkpoints, List<String> plots,
            ReportStage.Missing missing) {
        StringBuilder h = new StringBuilder("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Transfer accuracy: ")
                .append(escape(config.name)).append("</title>\n<style>body{font-family:sans-serif;margin:2em}"
                        + "table{border-collapse:collapse;margin-bottom:2em}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}"
                        + "td:first-child,th:first-child{text-align:left}.sig{font-weight:bold;background:#fff3c4}"
                        + ".failed{color:#a00;background:#fde2e2}.missing{color:#555;background:#eee}"
                        + ".partial{border:2px solid #a00;padding:0.5em 1em;background:#fde2e2}"
                        + "img{max-width:720px;margin:0.5em}</style></head><body>\n");
        h.append("<h1>Transfer accuracy: ").append(escape(config.name)).append("</h1>\n");
        if (missing.any()) {
            h.append("<p class=\"partial\"><b>Partial report</b> (written with --allow-incomplete): ")
                    .append(escape(missing.describe(20))).append(" (the CSV's n_missing column counts every one). Grey cells lack those runs; their means use only "
                            + "the runs that exist.</p>\n");
        }
        boolean dense = ReportStage.hasDense(cells);
        boolean controls = cells.stream().anyMatch(ReportStage.Cell::control);
        h.append("<p>Mean ± std over seeds ").append(config.transfer.seedsDescription()).append(", in percent. Steps and examples are "
                + "each checkpoint's upstream training (a pruned one's beyond the dense model it came from). ")
                .append(escape(dense ? ReportStage.LEGEND_DENSE.replace("* marks", "Highlighted cells (*) mark") : ReportStage.NO_DENSE))
                .append(' ').append(controls ? escape(ReportStage.LEGEND_CONTROL) + " " : "")
                .append("Red cells are runs that all failed (see transfer_results.error). Data: <a href=\"transfer_table.csv\">transfer_table.csv</a>, "
                        + "<a href=\"upstream_table.csv\">upstream_table.csv</a>.</p>\n");
        for (String regime : config.transfer.regimes) {
            h.append("<h2>").append(escape(regime)).append(" finetuning</h2>\n<table><tr><th>method</th><th>sparsity</th>"
                    + "<th>upstream steps</th><th>examples</th>");
            for (String task : config.transfer.tasks) {
                h.append("<th>").append(escape(task)).append("<br><small>")
                        .append(TaskRegistry.metric(config, task, "transfer.tasks").key()).append("</small></th>");
            }
            h.append("<th>mean over tasks</th>").append(dense ? "<th>Δ vs dense</th>" : "").append(controls ? "<th>Δ vs control</th>" : "")
                    .append("<th>family</th></tr>\n");
            for (ReportStage.TableRow row : ReportStage.rows(config, cells, regime)) {
                ReportStage.Cell any = row.any();
                h.append("<tr><td>").append(escape(any.label())).append(String.format(Locale.ROOT, "</td><td>%.2f</td><td>%,d</td><td>%,d</td>",
                        any.sparsity(), any.upstreamSteps(), any.upstreamExamples()));
                for (String task : config.transfer.tasks) {
                    ReportStage.Cell c = row.byTask().get(task);
                    if (c == null) {
                        h.append("<td>–</td>");
                    } else {
                        String title = title(c);
                        String attributes = !c.hasMean() ? (c.nFailed() > 0 ? " class=\"failed\"" : " class=\"missing\"")
                                : c.nMissing() > 0 ? " class=\"missing\"" : c.significant() ? " class=\"sig\"" : "";
                        h.append("<td").append(attributes).append(title.isEmpty() ? "" : " title=\"" + title + "\"").append('>')
                                .append(c.display()).append(escape(c.marks())).append("</td>");
                    }
                }
                h.append(row.mean() == null ? "<td>–</td>" : String.format(Locale.ROOT, "<td>%.2f</td>", row.mean()));
                if (dense) {
                    h.append(row.deltaVsDense() == null ? "<td>–</td>" : String.format(Locale.ROOT, "<td>%+.2f</td>", row.deltaVsDense()));
                }
                if (controls) {
                    h.append(row.deltaVsControl() == null ? "<td>–</td>" : String.format(Locale.ROOT, "<td>%+.2f</td>", row.deltaVsControl()));
                }
                h.append("<td>").append(escape(any.family().key())).append("</td></tr>\n");
            }
            h.append("</table>\n");
            for (String plot : plots) {
                if (plot.startsWith(regime + "_") || plot.equals("mean_" + regime + ".png")) {
                    h.append("<img src=\"").append(plot).append("\" alt=\"").append(plot).append("\">\n");
                }
            }
        }
        h.append("<h2>Findings</h2>\n<p>Computed from this run's numbers (p-values Holm-adjusted per regime).</p>\n");
        ReportFindings.lines(ReportFindings.of(config, cells), dense, controls).forEach((regime, lines) -> {
            h.append("<h3>").append(escape(regime)).append(" finetuning</h3>\n<ul>\n");
            lines.forEach(line -> h.append("<li>").append(escape(line)).append("</li>\n"));
            h.append("</ul>\n");
        });
        h.append("<h2>Upstream checkpoints</h2>\n<table><tr><th>method</th><th>target sparsity</th><th>actual sparsity</th>"
                + "<th>upstream top-1</th><th>train steps</th><th>wall s</th></tr>\n");
        for (CheckpointRecord r : checkpoints) {
            h.append(String.format(Locale.ROOT, "<tr><td>%s</td><td>%.2f</td><td>%.4f</td><td>%s</td><td>%d</td><td>%.1f</td></tr>%n",
                    escape(r.method()), r.targetSparsity(), r.actualSparsity(),
                    Double.isNaN(r.upstreamTop1()) ? "– (imported)" : String.format(Locale.ROOT, "%.2f", r.upstreamTop1()), r.trainSteps(),
                    r.wallSeconds()));
        }
        h.append("</table>\n").append(plots.contains("upstream.png") ? "<img src=\"upstream.png\" alt=\"upstream accuracy\">\n" : "")
                .append("</body></html>\n");
        return h.toString();
    }

    /** A cell's tests on hover: raw and Holm-adjusted p-values against dense and its control. */
    private static String title(ReportStage.Cell c) {
        List<String> parts = java.util.stream.Stream.of(c.vsDense(), c.vsControl()).filter(k -> k.p() != null)
                .map(k -> String.format(Locale.ROOT, "vs %s: %s p = %.3g, Holm %.3g", k.against(), k.test(), k.p(),
                        k.pHolm() == null ? Double.NaN : k.pHolm()))
                .toList();
        return escape(String.join("; ", parts));
    }

    private static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }
}
