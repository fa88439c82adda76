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
        h.append("<p>Mean ± std over seeds ")
                .append(config.transfer.seedsDescription()).append(", in percent. ")
                .append(ReportStage.hasDense(cells) ? "Highlighted cells differ from dense significantly "
                        + "(Welch's t-test over seeds, p &lt; 0.05); " : escape(ReportStage.NO_DENSE) + " ")
                .append("Red cells are runs that all failed (see transfer_results.error). Data: <a href=\"transfer_table.csv\">transfer_table.csv</a>, "
                        + "<a href=\"upstream_table.csv\">upstream_table.csv</a>.</p>\n");
        for (String regime : config.transfer.regimes) {
            h.append("<h2>").append(escape(regime)).append(" finetuning</h2>\n<table><tr><th>method</th><th>sparsity</th>");
            for (String task : config.transfer.tasks) {
                h.append("<th>").append(escape(task)).append("<br><small>")
                        .append(TaskRegistry.metric(config, task, "transfer.tasks").key()).append("</small></th>");
            }
            h.append("<th>family</th></tr>\n");
            ReportStage.pivot(cells, regime).values().forEach(row -> {
                ReportStage.Cell any = row.values().iterator().next();
                h.append("<tr><td>").append(escape(any.method())).append(String.format(Locale.ROOT, "</td><td>%.2f</td>", any.sparsity()));
                for (String task : config.transfer.tasks) {
                    ReportStage.Cell c = row.get(task);
                    if (c == null) {
                        h.append("<td>–</td>");
                    } else {
                        String attributes = !c.hasMean() ? (c.nFailed() > 0 ? " class=\"failed\"" : " class=\"missing\"")
                                : c.nMissing() > 0 ? " class=\"missing\"" : c.significant()
                                ? " class=\"sig\" title=\"p = " + String.format(Locale.ROOT, "%.3g", c.pVsDense()) + "\"" : "";
                        h.append("<td").append(attributes).append('>').append(c.display()).append("</td>");
                    }
                }
                h.append("<td>").append(escape(any.family().key())).append("</td></tr>\n");
            });
            h.append("</table>\n");
            for (String plot : plots) {
                if (plot.startsWith(regime + "_") || plot.equals("mean_" + regime + ".png")) {
                    h.append("<img src=\"").append(plot).append("\" alt=\"").append(plot).append("\">\n");
                }
            }
        }
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

    private static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }
}
