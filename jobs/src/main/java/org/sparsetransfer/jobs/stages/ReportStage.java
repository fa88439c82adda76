package org.sparsetransfer.jobs.stages;

import com.fasterxml.jackson.dataformat.csv.CsvMapper;
import com.fasterxml.jackson.dataformat.csv.CsvSchema;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.sparsetransfer.core.InvalidInputException;
import org.apache.spark.sql.SparkSession;
import org.sparsetransfer.core.config.ConfigLoader;
import org.sparsetransfer.core.config.ExperimentConfig;
import org.sparsetransfer.core.method.MethodFamily;
import org.sparsetransfer.core.method.PruningMethods;
import org.sparsetransfer.jobs.tables.DeltaTables;
import org.sparsetransfer.jobs.tables.ResultTable;
import org.sparsetransfer.jobs.tables.RunTable;
import org.sparsetransfer.jobs.tables.Warehouse;
import org.sparsetransfer.jobs.storage.Location;
import org.sparsetransfer.jobs.storage.Storage;
import org.sparsetransfer.core.task.TaskRegistry;
import org.sparsetransfer.core.transfer.Regime;

/**
 * Joins the config's transfer results into the transfer table (method x sparsity x regime x
 * task: mean and std over seeds, delta vs dense), stored as a Delta table and exported to
 * {@code report/transfer_table.csv} and a readable Markdown pivot.
 */
public final class ReportStage {
    /** The dense baseline's method key: every delta is against it. */
    private static final String DENSE = org.sparsetransfer.core.method.PruningMethods.dense().key();
    public static final String NAME = "report";
    public static final String CSV_NAME = "transfer_table.csv";
    public static final String MARKDOWN_NAME = "transfer_table.md";
    public static final String UPSTREAM_CSV_NAME = "upstream_table.csv";
    public static final String HTML_NAME = "index.html";
    /**
     * The columns of {@code transfer_table.csv}: n_failed counts the seeds that diverged,
     * n_missing those without any result (non-zero only in a partial report); the columns after
     * family (added later, so the earlier keep their places): the comparison with dense (its p-value,
     * Holm-adjusted p-value and test), the one with the matched control (dense_extended of the same
     * upstream steps), the checkpoint's upstream training, and the runs that did not converge.
     */
    public static final List<String> CSV_COLUMNS = List.of("method", "sparsity", "regime", "task", "metric", "mean", "std",
            "n_seeds", "delta_vs_dense", "n_failed", "n_missing", "family", "p_vs_dense", "p_holm", "test_vs_dense", "control",
            "delta_vs_control", "p_vs_control", "p_holm_control", "upstream_steps", "upstream_examples", "n_unconverged");

    static final StructType SCHEMA = new StructType()
            .add("method", DataTypes.StringType, false)
            .add("sparsity", DataTypes.DoubleType, false)
            .add("regime", DataTypes.StringType, false)
            .add("task", DataTypes.StringType, false)
            .add("metric", DataTypes.StringType, false)
            .add("mean", DataTypes.DoubleType, true)
            .add("std", DataTypes.DoubleType, true)
            .add("n_seeds", DataTypes.LongType, false)
            .add("delta_vs_dense", DataTypes.DoubleType, true)
            .add("n_failed", DataTypes.LongType, false)
            .add("p_vs_dense", DataTypes.DoubleType, true)
            .add("n_missing", DataTypes.LongType, false)
            .add("family", DataTypes.StringType, false)
            .add("p_holm", DataTypes.DoubleType, true)
            .add("test_vs_dense", DataTypes.StringType, true)
            .add("control", DataTypes.StringType, true)
            .add("delta_vs_control", DataTypes.DoubleType, true)
            .add("p_vs_control", DataTypes.DoubleType, true)
            .add("p_holm_control", DataTypes.DoubleType, true)
            .add("upstream_steps", DataTypes.LongType, false)
            .add("upstream_examples", DataTypes.LongType, false)
            .add("n_unconverged", DataTypes.LongType, false);

    /** Significance level of the tables' marks, on Holm-adjusted p-values. */
    static final double ALPHA = 0.05;

    /**
     * A cell compared with a baseline ({@code against}: dense, or a control's label with its steps):
     * the difference of means, the p-value of {@code test} (welch or mcnemar; null when neither is
     * defined), and the p-value Holm-adjusted within its family.
     */
    public record Comparison(String against, Double delta, Double p, String test, Double pHolm) {
        static final Comparison NONE = new Comparison(null, null, null, null, null);

        /** Dense against itself: delta 0 where it has a mean. */
        static Comparison self(boolean empty) {
            return new Comparison(DENSE, empty ? null : 0.0, null, null, null);
        }

        Comparison withHolm(Double adjusted) {
            return new Comparison(against, delta, p, test, adjusted);
        }

        /** Significant after the family's correction. */
        boolean significant() {
            return pHolm != null && pHolm < ALPHA;
        }
    }

    /**
     * One cell of the table: a checkpoint (method, sparsity; a control's upstream steps) on a task
     * in a regime, over seeds; n_failed counts diverged seeds (when all did, mean is NaN and the
     * tables say "failed"); nMissing counts configured seeds without any result (only in a partial
     * report, see {@link ReportStage#ReportStage(boolean)}); nUnconverged counts linear runs whose
     * head did not converge; the comparisons are with dense and with the matched control.
     */
    public record Cell(String method, double sparsity, String regime, String task, String metric, MethodFamily family,
            long upstreamSteps, long upstreamExamples, boolean control, double mean, Double std, long nSeeds, double[] values,
            long nFailed, long nMissing, long nUnconverged, Comparison vsDense, Comparison vsControl) {

        Cell withVsDense(Comparison c) {
            return new Cell(method, sparsity, regime, task, metric, family, upstreamSteps, upstreamExamples, control, mean, std, nSeeds,
                    values, nFailed, nMissing, nUnconverged, c, vsControl);
        }

        Cell withVsControl(Comparison c) {
            return new Cell(method, sparsity, regime, task, metric, family, upstreamSteps, upstreamExamples, control, mean, std, nSeeds,
                    values, nFailed, nMissing, nUnconverged, vsDense, c);
        }

        Double deltaVsDense() {
            return vsDense.delta();
        }

        Double pVsDense() {
            return vsDense.p();
        }

        /** Significantly different from dense after Holm's correction. */
        boolean significant() {
            return vsDense.significant();
        }

        /** Whether the cell has a mean: at least one seed finished. */
        boolean hasMean() {
            return nSeeds > 0;
        }

        /** The row's name in the tables: the method, and a control's budget. */
        String label() {
            return control ? method + " +" + upstreamSteps : method;
        }

        /**
         * How the Markdown and HTML tables show the cell: mean ± std, failed, missing and
         * not converged runs counted (the marks of significance are added by each format).
         */
        String display() {
            if (!hasMean()) {
                long runs = nFailed + nMissing;
                return nFailed == 0 ? "missing (" + nMissing + " of " + runs + " runs)"
                        : "failed (" + nFailed + " of " + runs + " runs" + (nMissing > 0 ? ", " + nMissing + " missing" : "") + ")";
            }
            return String.format(Locale.ROOT, "%.2f", mean) + (std == null ? "" : String.format(Locale.ROOT, " ± %.2f", std))
                    + (nFailed > 0 ? " (" + nFailed + " failed)" : "") + (nMissing > 0 ? " (" + nMissing + " missing)" : "")
                    + (nUnconverged > 0 ? " (" + nUnconverged + " not converged)" : "");
        }

        /** The marks after a cell's value: * significantly different from dense, † from its control (both Holm-adjusted). */
        String marks() {
            return (vsDense.significant() ? " *" : "") + (vsControl.significant() ? " †" : "");
        }
    }

    /** The configured runs that have no result, per cell. */
    record Missing(int configured, Map<String, Long> byCell) {
        long runs() {
            return byCell.values().stream().mapToLong(Long::longValue).sum();
        }

        boolean any() {
            return !byCell.isEmpty();
        }

        /** E.g. "76 of 128 configured runs have no result, in 38 cells: gmp_star 0.80 linear mnist (2), ...". */
        String describe(int listed) {
            List<String> cells = byCell.entrySet().stream().limit(listed)
                    .map(e -> e.getKey().replace('|', ' ') + " (" + e.getValue() + ")").toList();
            return runs() + " of " + configured + " configured transfer runs have no result, in " + byCell.size() + " cells: "
                    + String.join(", ", cells) + (byCell.size() > listed ? " and " + (byCell.size() - listed) + " more" : "");
        }
    }

    private final boolean allowIncomplete;

    /** A report that refuses to publish while configured runs lack results. */
    public ReportStage() {
        this(false);
    }

    /**
     * @param allowIncomplete publish a partial report when configured runs lack results: its
     *     tables say so and mark the cells that lack runs
     */
    public ReportStage(boolean allowIncomplete) {
        this.allowIncomplete = allowIncomplete;
    }

    /**
     * Builds the table and publishes it: checks first that every configured run has a result
     * (or a recorded failure), renders every file, and only then commits the Delta table and
     * moves the files into place ({@link ReportPublication}). Returns the Markdown.
     */
    public String run(StageContext ctx) {
        ctx.describe(NAME, "joining transfer results");
        Location dir = ctx.warehouse().reportDir();
        Storage storage = Storage.of(ctx.spark());
        for (String token : ReportPublication.recover(storage, dir, lastReportToken(ctx))) {
            StageContext.log(NAME, "completed the publication of an earlier report that was interrupted (" + token + ")");
        }
        List<CheckpointRecord> checkpoints = TransferStage.checkpoints(ctx);
        List<Row> results = ReportCells.results(ctx, checkpoints);
        Missing missing = missing(ctx.config(), checkpoints, results);
        List<Cell> cells = checkedCells(ctx, checkpoints, missing, results);
        Rendered rendered = render(ctx, storage, cells, checkpoints, missing, dir);
        ReportPublication files = rendered.files();
        boolean committed = false;
        try {
            List<Row> rows = cells.stream().map(c -> RowFactory.create(c.method(), c.sparsity(), c.regime(), c.task(), c.metric(),
                    c.hasMean() ? c.mean() : null, c.std(), c.nSeeds(), c.deltaVsDense(), c.nFailed(), c.pVsDense(), c.nMissing(),
                    c.family().key(), c.vsDense().pHolm(), c.vsDense().test(), c.vsControl().against(), c.vsControl().delta(),
                    c.vsControl().p(), c.vsControl().pHolm(), c.upstreamSteps(), c.upstreamExamples(), c.nUnconverged()))
                    .toList();
            ctx.spark().createDataFrame(rows, SCHEMA).coalesce(1).write().format("delta").mode("overwrite")
                    .option("overwriteSchema", "true").option("userMetadata", TOKEN_PREFIX + files.token())
                    .save(ctx.warehouse().transferTable());
            committed = true;
        } finally {
            if (!committed) {
                files.discard();
            }
        }
        files.commit();
        logWritten(dir, cells, missing);
        return rendered.markdown();
    }

    /**
     * Rebuilds the report of an earlier run from its recorded config and table versions (Delta
     * time travel) into {@code report/runs/RUN_ID/}; the current tables are left alone.
     */
    public String runAsOf(SparkSession spark, Warehouse warehouse, String runId) {
        RunTable.Run run = new RunTable(spark, warehouse).get(runId);
        ExperimentConfig config = ConfigLoader.parse(
                new java.io.ByteArrayInputStream(run.configYaml().getBytes(java.nio.charset.StandardCharsets.UTF_8)), "run " + runId);
        StageContext past = new StageContext(spark, config, warehouse, run.versionsAfter());
        past.describe(NAME, "rebuilding the report of run " + runId + " at table versions " + run.versionsAfter());
        Location dir = warehouse.reportDir().resolve("runs/" + runId);
        Storage storage = Storage.of(spark);
        ReportPublication.recover(storage, dir, null);
        List<CheckpointRecord> checkpoints = TransferStage.checkpoints(past);
        List<Row> results = ReportCells.results(past, checkpoints);
        Missing missing = missing(config, checkpoints, results);
        List<Cell> cells = checkedCells(past, checkpoints, missing, results);
        Rendered rendered = render(past, storage, cells, checkpoints, missing, dir);
        rendered.files().commit();
        logWritten(dir, cells, missing);
        return rendered.markdown();
    }

    /** Copies the files of the report just published (of run {@code runId}, or the current one when null) to {@code local}. */
    public void copyPublished(StageContext ctx, String runId, Path local) {
        Location dir = runId == null ? ctx.warehouse().reportDir() : ctx.warehouse().reportDir().resolve("runs/" + runId);
        int copied = ReportPublication.copyPublished(Storage.of(ctx.spark()), dir, local);
        StageContext.log(NAME, copied + " report files copied to " + local.toAbsolutePath());
    }

    /** Prefix of the {@code userMetadata} of a transfer_table commit: the token of the report files it goes with. */
    static final String TOKEN_PREFIX = "report-files ";

    /** The token of the report files that the transfer table's latest commit goes with, or null. */
    private static String lastReportToken(StageContext ctx) {
        String path = ctx.warehouse().transferTable();
        if (!DeltaTables.exists(ctx.spark(), path)) {
            return null;
        }
        Row last = io.delta.tables.DeltaTable.forPath(ctx.spark(), path).history(1).select("userMetadata").first();
        String metadata = last.isNullAt(0) ? "" : last.getString(0);
        return metadata.startsWith(TOKEN_PREFIX) ? metadata.substring(TOKEN_PREFIX.length()) : null;
    }

    /** The cells, after refusing a report that lacks runs (unless partial reports are allowed) or has no result at all. */
    private List<Cell> checkedCells(StageContext ctx, List<CheckpointRecord> checkpoints, Missing missing, List<Row> results) {
        if (missing.runs() == missing.configured()) {
            throw new InvalidInputException("No transfer results for this config in " + ctx.warehouse().transferResults()
                    + "; run the transfer command (or pipeline) with this config first");
        }
        if (missing.any() && !allowIncomplete) {
            throw new InvalidInputException("The report is incomplete: " + missing.describe(5) + ". Produce them with the "
                    + "transfer command (or pipeline) and this config, or pass --allow-incomplete to write a partial report "
                    + "that marks the cells lacking runs");
        }
        return ReportCells.of(ctx, checkpoints, missing, results);
    }

    /** A report's files, staged and sealed, and its Markdown (which pipeline prints). */
    private record Rendered(ReportPublication files, String markdown) {}

    /** Every file of the report, written into a staging folder and sealed; nothing is published yet. */
    private static Rendered render(StageContext ctx, Storage storage, List<Cell> cells, List<CheckpointRecord> checkpoints,
            Missing missing, Location dir) {
        ReportPublication files = ReportPublication.begin(storage, dir);
        boolean sealed = false;
        try {
            String markdown = markdown(ctx.config(), cells, checkpoints, missing);
            files.write(CSV_NAME, csv(cells));
            files.write(MARKDOWN_NAME, markdown);
            files.write(UPSTREAM_CSV_NAME, upstreamCsv(checkpoints));
            List<String> plots = new ReportPlots(ctx.config(), cells, checkpoints).writeAll(files.stagingDir());
            plots.forEach(files::added);
            files.write(HTML_NAME, ReportHtml.page(ctx.config(), cells, checkpoints, plots, missing));
            files.seal();
            sealed = true;
            return new Rendered(files, markdown);
        } finally {
            if (!sealed) {
                files.discard();
            }
        }
    }

    private static void logWritten(Location dir, List<Cell> cells, Missing missing) {
        StageContext.log(NAME, cells.size() + " cells written to " + dir.resolve(CSV_NAME) + ", " + MARKDOWN_NAME + ", "
                + UPSTREAM_CSV_NAME + ", the plots and " + dir.resolve(HTML_NAME)
                + (missing.any() ? "; PARTIAL: " + missing.describe(3) : ""));
    }

    /** The configured runs (checkpoint x task x regime x seed) without any result row among {@code results}, counted per cell. */
    static Missing missing(ExperimentConfig config, List<CheckpointRecord> checkpoints, List<Row> results) {
        ExperimentConfig.Transfer t = config.transfer;
        Set<String> recorded = new HashSet<>();
        results.forEach(r -> recorded.add(ResultTable.key(r.getString(ReportCells.CHECKPOINT), r.getString(ReportCells.TASK),
                r.getString(ReportCells.REGIME), r.getLong(ReportCells.SEED))));
        Map<String, Long> byCell = new LinkedHashMap<>();
        int configured = 0;
        for (CheckpointRecord c : checkpoints) {
            for (String regime : t.regimes) {
                for (String task : t.tasks) {
                    for (long seed : t.seeds(Regime.parse(regime, "transfer.regimes"))) {
                        configured++;
                        if (!recorded.contains(ResultTable.key(c.id(), task, regime, seed))) {
                            byCell.merge(cellKey(c, regime, task), 1L, Long::sum);
                        }
                    }
                }
            }
        }
        return new Missing(configured, byCell);
    }

    /** A cell's key in {@link Missing}, readable once its bars are spaces: "gmp 0.80 linear mnist", "dense_extended+200 0.00 ...". */
    static String cellKey(CheckpointRecord c, String regime, String task) {
        String label = ReportCells.isControl(c) ? c.method() + "+" + c.trainSteps() : c.method();
        return label + "|" + String.format(Locale.ROOT, "%.2f", c.targetSparsity()) + "|" + regime + "|" + task;
    }


    static String csv(List<Cell> cells) {
        List<List<Object>> rows = new ArrayList<>();
        for (Cell c : cells) {
            rows.add(java.util.Arrays.asList(c.method(), fmt(c.sparsity()), c.regime(), c.task(), c.metric(), c.hasMean() ? fmt(c.mean()) : "",
                    c.std() == null ? "" : fmt(c.std()), c.nSeeds(), c.deltaVsDense() == null ? "" : fmt(c.deltaVsDense()),
                    c.nFailed(), c.nMissing(), c.family().key(), p(c.vsDense().p()), p(c.vsDense().pHolm()), text(c.vsDense().test()),
                    text(c.vsControl().against()), c.vsControl().delta() == null ? "" : fmt(c.vsControl().delta()), p(c.vsControl().p()),
                    p(c.vsControl().pHolm()), c.upstreamSteps(), c.upstreamExamples(), c.nUnconverged()));
        }
        return csv(CSV_COLUMNS, rows);
    }

    private static String p(Double p) {
        return p == null ? "" : String.format(Locale.ROOT, "%.6g", p);
    }

    private static String text(String s) {
        return s == null ? "" : s;
    }

    /** One row per checkpoint the report covers, dense included. */
    static String upstreamCsv(List<CheckpointRecord> checkpoints) {
        List<List<Object>> rows = new ArrayList<>();
        for (CheckpointRecord r : checkpoints) {
            rows.add(List.of(r.method(), fmt(r.targetSparsity()), fmt(r.actualSparsity()),
                    Double.isNaN(r.upstreamTop1()) ? "" : fmt(r.upstreamTop1()),
                    r.trainSteps(), String.format(Locale.ROOT, "%.1f", r.wallSeconds())));
        }
        return csv(List.of("method", "sparsity", "actual_sparsity", "upstream_top1", "train_steps", "wall_s"), rows);
    }

    private static String csv(List<String> header, List<List<Object>> rows) {
        CsvSchema.Builder schema = CsvSchema.builder();
        header.forEach(schema::addColumn);
        try {
            return new CsvMapper().writer(schema.build().withHeader()).writeValueAsString(rows);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A regime's cells as rows keyed by (method, sparsity), each mapping task to cell, in table order. */
    static Map<String, Map<String, Cell>> pivot(List<Cell> cells, String regime) {
        Map<String, Map<String, Cell>> rows = new LinkedHashMap<>();
        for (Cell c : cells) {
            if (c.regime().equals(regime)) {
                rows.computeIfAbsent(c.label() + "|" + c.sparsity(), k -> new LinkedHashMap<>()).put(c.task(), c);
            }
        }
        return rows;
    }

    private static String fmt(double v) {
        return String.format(Locale.ROOT, "%.4f", v);
    }

    /** Why a table has no Δ column: said wherever the Δ would be. */
    static final String NO_DENSE = "This experiment has no dense checkpoint (a transfer-only experiment without imported.dense), "
            + "so there is no Δ vs dense and no test against dense.";

    /** Whether the report has the dense baseline's cells. */
    static boolean hasDense(List<Cell> cells) {
        return cells.stream().anyMatch(c -> c.method().equals(DENSE));
    }

    /**
     * Per regime: one row per checkpoint (method, sparsity; a control's budget) with its upstream
     * training, one column per task, the mean over tasks, Δ vs dense and vs the matched control;
     * then the findings, then the upstream checkpoints.
     */
    static String markdown(ExperimentConfig config, List<Cell> cells, List<CheckpointRecord> checkpoints, Missing missing) {
        StringBuilder md = new StringBuilder();
        md.append("# Transfer accuracy: ").append(config.name).append("\n\n");
        if (missing.any()) {
            md.append("**PARTIAL REPORT** (written with --allow-incomplete): ").append(missing.describe(20))
                    .append(" (the CSV's n_missing column counts every one). Cells marked \"missing\" lack those runs; their means, the means over tasks and Δ use only the "
                            + "runs that exist.\n\n");
        }
        md.append("Mean ± std over seeds ").append(config.transfer.seedsDescription()).append(", in percent. Metric per task: ");
        List<String> metrics = new ArrayList<>();
        for (String task : config.transfer.tasks) {
            metrics.add(task + " " + TaskRegistry.metric(config, task, "transfer.tasks").key());
        }
        boolean dense = hasDense(cells);
        boolean controls = cells.stream().anyMatch(Cell::control);
        md.append(String.join(", ", metrics)).append(". Steps and examples are each checkpoint's upstream training (a pruned one's "
                + "beyond the dense model it came from; IMP's and COLT's whole schedule). ");
        md.append(dense ? LEGEND_DENSE : NO_DENSE).append(' ');
        if (controls) {
            md.append(LEGEND_CONTROL).append(' ');
        }
        md.append("\"failed\" marks a cell whose runs all diverged (their errors are in the transfer_results table); \"not converged\" "
                + "counts linear runs whose head did not reach the probe's tolerance.\n");
        for (String regime : config.transfer.regimes) {
            md.append("\n## ").append(regime).append(" finetuning\n\n| method | sparsity | upstream steps | examples |");
            config.transfer.tasks.forEach(task -> md.append(' ').append(task).append(" |"));
            md.append(" mean over tasks |").append(dense ? " Δ vs dense |" : "").append(controls ? " Δ vs control |" : "")
                    .append(" family |\n|---|---:|---:|---:|");
            config.transfer.tasks.forEach(task -> md.append("---:|"));
            md.append("---:|").append(dense ? "---:|" : "").append(controls ? "---:|" : "").append("---|\n");
            for (TableRow row : rows(config, cells, regime)) {
                Cell any = row.any();
                md.append("| ").append(any.label()).append(" | ").append(String.format(Locale.ROOT, "%.2f | %,d | %,d |", any.sparsity(),
                        any.upstreamSteps(), any.upstreamExamples()));
                for (String task : config.transfer.tasks) {
                    Cell c = row.byTask().get(task);
                    md.append(c == null ? " – |" : " " + c.display() + c.marks() + " |");
                }
                md.append(row.mean() == null ? " – |" : String.format(Locale.ROOT, " %.2f |", row.mean()));
                if (dense) {
                    md.append(row.deltaVsDense() == null ? " – |" : String.format(Locale.ROOT, " %+.2f |", row.deltaVsDense()));
                }
                if (controls) {
                    md.append(row.deltaVsControl() == null ? " – |" : String.format(Locale.ROOT, " %+.2f |", row.deltaVsControl()));
                }
                md.append(' ').append(any.family().key()).append(" |\n");
            }
        }
        md.append("\n## Findings\n\nComputed from this run's numbers (p-values Holm-adjusted per regime).\n");
        ReportFindings.lines(ReportFindings.of(config, cells), dense, controls).forEach((regime, lines) -> {
            md.append("\n### ").append(regime).append(" finetuning\n\n");
            lines.forEach(line -> md.append("- ").append(line).append('\n'));
        });
        md.append("\n## Upstream checkpoints\n\n| method | target sparsity | actual sparsity | upstream test top-1 | train steps | examples | wall s "
                + "| stored bytes |\n").append("|---|---:|---:|---:|---:|---:|---:|---:|\n");
        for (CheckpointRecord r : checkpoints) {
            md.append(String.format(Locale.ROOT, "| %s | %.2f | %.4f | %s | %d | %d | %.1f | %d |%n",
                    ReportCells.isControl(r) ? r.method() + " +" + r.trainSteps() : r.method(), r.targetSparsity(), r.actualSparsity(),
                    Double.isNaN(r.upstreamTop1()) ? "– (imported)" : String.format(Locale.ROOT, "%.2f", r.upstreamTop1()),
                    r.trainSteps(), r.examplesSeen(), r.wallSeconds(), r.payloadBytes()));
        }
        return md.toString();
    }

    /** The legend of the marks against dense. */
    static final String LEGEND_DENSE = "Δ vs dense is the mean over tasks minus dense's. * marks a cell that differs from dense "
            + "significantly after Holm-Bonferroni correction over the regime's comparisons with dense (adjusted p < 0.05; per cell "
            + "Welch's t-test over seeds, or McNemar's exact test on the paired test predictions where the seeds do not vary, as "
            + "with the exact L-BFGS probe).";

    /** The legend of the marks against the matched controls. */
    static final String LEGEND_CONTROL = "Δ vs control is the same against the cell's compute-matched control (dense_extended +N: "
            + "the dense model trained the checkpoint's N upstream steps further); † marks a significant difference from it after "
            + "Holm-Bonferroni correction over those comparisons.";

    /** One row of a regime's table (one checkpoint): its cells by task, and its means over tasks where every task has one. */
    record TableRow(Cell any, Map<String, Cell> byTask, Double mean, Double deltaVsDense, Double deltaVsControl) {}

    /** A regime's rows, in table order; the means over tasks only for rows with every task. */
    static List<TableRow> rows(ExperimentConfig config, List<Cell> cells, String regime) {
        List<TableRow> rows = new ArrayList<>();
        for (Map<String, Cell> byTask : pivot(cells, regime).values()) {
            List<Cell> present = config.transfer.tasks.stream().map(byTask::get).filter(c -> c != null && c.hasMean()).toList();
            boolean complete = present.size() == config.transfer.tasks.size();
            rows.add(new TableRow(byTask.values().iterator().next(), byTask,
                    complete ? present.stream().mapToDouble(Cell::mean).average().orElseThrow() : null,
                    complete ? meanOf(present, c -> c.vsDense().delta()) : null,
                    complete ? meanOf(present, c -> c.vsControl().delta()) : null));
        }
        return rows;
    }

    private static Double meanOf(List<Cell> cells, java.util.function.Function<Cell, Double> value) {
        if (cells.stream().anyMatch(c -> value.apply(c) == null)) {
            return null;
        }
        return cells.stream().mapToDouble(c -> value.apply(c)).average().orElseThrow();
    }
}
