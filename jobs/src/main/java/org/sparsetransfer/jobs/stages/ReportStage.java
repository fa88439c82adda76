package org.sparsetransfer.jobs.stages;

import static org.apache.spark.sql.functions.avg;
import static org.apache.spark.sql.functions.collect_list;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.stddev_samp;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

import com.fasterxml.jackson.dataformat.csv.CsvMapper;
import com.fasterxml.jackson.dataformat.csv.CsvSchema;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
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
     * n_missing those without any result (non-zero only in a partial report).
     */
    public static final List<String> CSV_COLUMNS = List.of("method", "sparsity", "regime", "task", "metric", "mean", "std",
            "n_seeds", "delta_vs_dense", "n_failed", "n_missing", "family");

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
            .add("family", DataTypes.StringType, false);

    /** Significance level of the Welch t-test against dense that the tables mark. */
    static final double ALPHA = 0.05;

    /**
     * One cell of the table: a (method, sparsity, regime, task) over seeds; n_failed counts
     * diverged seeds (when all did, mean is NaN and the tables say "failed"); nMissing counts
     * configured seeds without any result (only in a partial report, see
     * {@link ReportStage#ReportStage(boolean)}); pVsDense is Welch's two-sided t-test of its seeds
     * against dense's (null when either side has fewer than two seeds or no variance).
     */
    public record Cell(String method, double sparsity, String regime, String task, String metric, double mean, Double std,
            long nSeeds, Double deltaVsDense, long nFailed, double[] values, Double pVsDense, long nMissing, MethodFamily family) {

        boolean significant() {
            return pVsDense != null && pVsDense < ALPHA;
        }

        /** Whether the cell has a mean: at least one seed finished. */
        boolean hasMean() {
            return nSeeds > 0;
        }

        /** How the Markdown and HTML tables show the cell: mean ± std, * when significant, failed and missing runs counted. */
        String display() {
            if (!hasMean()) {
                long runs = nFailed + nMissing;
                return nFailed == 0 ? "missing (" + nMissing + " of " + runs + " runs)"
                        : "failed (" + nFailed + " of " + runs + " runs" + (nMissing > 0 ? ", " + nMissing + " missing" : "") + ")";
            }
            return String.format(Locale.ROOT, "%.2f", mean) + (std == null ? "" : String.format(Locale.ROOT, " ± %.2f", std))
                    + (nFailed > 0 ? " (" + nFailed + " failed)" : "") + (nMissing > 0 ? " (" + nMissing + " missing)" : "");
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
        Missing missing = missing(ctx, checkpoints);
        List<Cell> cells = checkedCells(ctx, checkpoints, missing);
        Rendered rendered = render(ctx, storage, cells, checkpoints, missing, dir);
        ReportPublication files = rendered.files();
        boolean committed = false;
        try {
            List<Row> rows = cells.stream().map(c -> RowFactory.create(c.method(), c.sparsity(), c.regime(), c.task(), c.metric(),
                    c.hasMean() ? c.mean() : null, c.std(), c.nSeeds(), c.deltaVsDense(), c.nFailed(), c.pVsDense(), c.nMissing(),
                    c.family().key()))
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
        Missing missing = missing(past, checkpoints);
        List<Cell> cells = checkedCells(past, checkpoints, missing);
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
    private List<Cell> checkedCells(StageContext ctx, List<CheckpointRecord> checkpoints, Missing missing) {
        if (missing.runs() == missing.configured()) {
            throw new InvalidInputException("No transfer results for this config in " + ctx.warehouse().transferResults()
                    + "; run the transfer command (or pipeline) with this config first");
        }
        if (missing.any() && !allowIncomplete) {
            throw new InvalidInputException("The report is incomplete: " + missing.describe(5) + ". Produce them with the "
                    + "transfer command (or pipeline) and this config, or pass --allow-incomplete to write a partial report "
                    + "that marks the cells lacking runs");
        }
        return cells(ctx, checkpoints, missing);
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

    /** The configured runs (checkpoint x task x regime x seed) without any result row, counted per cell. */
    static Missing missing(StageContext ctx, List<CheckpointRecord> checkpoints) {
        ExperimentConfig.Transfer t = ctx.config().transfer;
        Set<String> recorded = new HashSet<>();
        ctx.results().table().where(col("settings_hash").equalTo(lit(ctx.ids().transferSettingsHash()))
                        .and(col("checkpoint_id").isin(checkpoints.stream().map(CheckpointRecord::id).toArray())))
                .select("checkpoint_id", "task", "regime", "seed").collectAsList()
                .forEach(r -> recorded.add(ResultTable.key(r.getString(0), r.getString(1), r.getString(2), r.getLong(3))));
        Map<String, Long> byCell = new LinkedHashMap<>();
        int configured = 0;
        for (CheckpointRecord c : checkpoints) {
            for (String regime : t.regimes) {
                for (String task : t.tasks) {
                    for (long seed : t.seeds(Regime.parse(regime, "transfer.regimes"))) {
                        configured++;
                        if (!recorded.contains(ResultTable.key(c.id(), task, regime, seed))) {
                            byCell.merge(cellKey(c.method(), c.targetSparsity(), regime, task), 1L, Long::sum);
                        }
                    }
                }
            }
        }
        return new Missing(configured, byCell);
    }

    /** The rows of the configured regimes and, per regime, of its configured seeds. */
    private static Column configuredSeeds(ExperimentConfig.Transfer t) {
        Column any = lit(false);
        for (String regime : t.regimes) {
            any = any.or(col("regime").equalTo(lit(regime))
                    .and(col("seed").isin(t.seeds(Regime.parse(regime, "transfer.regimes")).toArray())));
        }
        return any;
    }

    private static String cellKey(String method, double sparsity, String regime, String task) {
        return method + "|" + String.format(Locale.ROOT, "%.2f", sparsity) + "|" + regime + "|" + task;
    }

    static List<Cell> cells(StageContext ctx, List<CheckpointRecord> checkpoints, Missing missing) {
        ExperimentConfig.Transfer t = ctx.config().transfer;
        // Each checkpoint's label, sparsity and family as this config shows it (an import's label is the config's).
        Map<String, CheckpointRecord> byId = new LinkedHashMap<>();
        checkpoints.forEach(c -> byId.put(c.id(), c));
        Dataset<Row> results = ctx.results().table()
                .where(col("settings_hash").equalTo(lit(ctx.ids().transferSettingsHash()))
                        .and(col("checkpoint_id").isin(byId.keySet().toArray()))
                        .and(col("task").isin(t.tasks.toArray()))
                        .and(configuredSeeds(t)));
        List<Row> grouped = results.groupBy("checkpoint_id", "regime", "task", "metric")
                .agg(avg(when(col("status").equalTo(ResultTable.OK), col("value"))).as("mean"),
                        stddev_samp(when(col("status").equalTo(ResultTable.OK), col("value"))).as("std"),
                        sum(when(col("status").equalTo(ResultTable.OK), 1).otherwise(0)).as("n_seeds"),
                        count(lit(1)).as("n_runs"),
                        collect_list(when(col("status").equalTo(ResultTable.OK), col("value"))).as("values"))
                .collectAsList();
        Map<String, Double> denseMeans = new LinkedHashMap<>();
        Map<String, double[]> denseValues = new LinkedHashMap<>();
        for (Row r : grouped) {
            if (byId.get(r.getString(0)).method().equals(DENSE) && !r.isNullAt(4)) {
                denseMeans.put(r.getString(1) + "|" + r.getString(2), r.getDouble(4));
                denseValues.put(r.getString(1) + "|" + r.getString(2), values(r));
            }
        }
        List<Cell> cells = new ArrayList<>();
        for (Row r : grouped) {
            CheckpointRecord c = byId.get(r.getString(0));
            String key = r.getString(1) + "|" + r.getString(2);
            Double dense = denseMeans.get(key);
            double mean = r.isNullAt(4) ? Double.NaN : r.getDouble(4); // NaN: every seed of this cell failed
            double[] values = values(r);
            Double p = c.method().equals(DENSE) || !denseValues.containsKey(key) ? null
                    : Significance.welchP(values, denseValues.get(key));
            cells.add(new Cell(c.method(), c.targetSparsity(), r.getString(1), r.getString(2), r.getString(3), mean,
                    r.isNullAt(5) ? null : r.getDouble(5), r.getLong(6), dense == null || r.isNullAt(4) ? null : mean - dense,
                    r.getLong(7) - r.getLong(6), values, p,
                    missing.byCell().getOrDefault(cellKey(c.method(), c.targetSparsity(), r.getString(1), r.getString(2)), 0L),
                    c.methodFamily()));
        }
        // Cells none of whose runs has a result (only in a partial report).
        Set<String> present = new HashSet<>();
        cells.forEach(c -> present.add(cellKey(c.method(), c.sparsity(), c.regime(), c.task())));
        for (CheckpointRecord c : checkpoints) {
            for (String regime : t.regimes) {
                for (String task : t.tasks) {
                    String key = cellKey(c.method(), c.targetSparsity(), regime, task);
                    if (present.add(key)) {
                        cells.add(new Cell(c.method(), c.targetSparsity(), regime, task,
                                TaskRegistry.metric(ctx.config(), task, "transfer.tasks").key(), Double.NaN, null, 0, null, 0,
                                new double[0], null, missing.byCell().getOrDefault(key, 0L), c.methodFamily()));
                    }
                }
            }
        }
        // Grouped by family (dense first), then in the order of the checkpoints (the config's methods, then its imports).
        List<String> methods = new ArrayList<>(List.of(DENSE));
        checkpoints.stream().map(CheckpointRecord::method).filter(m -> !methods.contains(m)).forEach(methods::add);
        cells.sort(Comparator.<Cell>comparingInt(c -> c.family().ordinal())
                .thenComparingInt(c -> methods.indexOf(c.method()))
                .thenComparingDouble(Cell::sparsity)
                .thenComparingInt(c -> t.regimes.indexOf(c.regime()))
                .thenComparingInt(c -> t.tasks.indexOf(c.task())));
        return cells;
    }

    private static double[] values(Row r) {
        List<Double> list = r.getList(8);
        return list.stream().mapToDouble(Double::doubleValue).toArray();
    }

    static String csv(List<Cell> cells) {
        List<List<Object>> rows = new ArrayList<>();
        for (Cell c : cells) {
            rows.add(List.of(c.method(), fmt(c.sparsity()), c.regime(), c.task(), c.metric(), c.hasMean() ? fmt(c.mean()) : "",
                    c.std() == null ? "" : fmt(c.std()), c.nSeeds(), c.deltaVsDense() == null ? "" : fmt(c.deltaVsDense()),
                    c.nFailed(), c.nMissing(), c.family().key()));
        }
        return csv(CSV_COLUMNS, rows);
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
                rows.computeIfAbsent(c.method() + "|" + c.sparsity(), k -> new LinkedHashMap<>()).put(c.task(), c);
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

    /** Per regime: one row per (method, sparsity), one column per task, then the mean over tasks. */
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
        md.append(String.join(", ", metrics)).append(". ");
        if (dense) {
            md.append("Δ is the mean over tasks minus dense's. ")
                    .append("* marks a cell that differs from dense significantly (Welch's t-test over seeds, p < 0.05); ");
        } else {
            md.append(NO_DENSE).append(' ');
        }
        md.append("\"failed\" marks a cell whose runs all diverged (their errors are in the transfer_results table).\n");
        for (String regime : config.transfer.regimes) {
            md.append("\n## ").append(regime).append(" finetuning\n\n| method | sparsity |");
            config.transfer.tasks.forEach(task -> md.append(' ').append(task).append(" |"));
            md.append(dense ? " mean over tasks | Δ vs dense | family |\n|---|---:|" : " mean over tasks | family |\n|---|---:|");
            config.transfer.tasks.forEach(task -> md.append("---:|"));
            md.append(dense ? "---:|---:|---|\n" : "---:|---|\n");
            Map<String, Map<String, Cell>> byRow = pivot(cells, regime);
            Double denseMean = null;
            for (Map.Entry<String, Map<String, Cell>> e : byRow.entrySet()) {
                Cell any = e.getValue().values().iterator().next();
                md.append("| ").append(any.method()).append(" | ").append(String.format(Locale.ROOT, "%.2f", any.sparsity())).append(" |");
                double sum = 0;
                int n = 0;
                for (String task : config.transfer.tasks) {
                    Cell c = e.getValue().get(task);
                    if (c == null) {
                        md.append(" – |");
                    } else {
                        md.append(' ').append(c.display()).append(c.significant() ? " * |" : " |");
                        if (c.hasMean()) {
                            sum += c.mean();
                            n++;
                        }
                    }
                }
                double mean = n == 0 ? Double.NaN : sum / n;
                boolean complete = n == config.transfer.tasks.size();
                if (any.method().equals(DENSE) && complete) {
                    denseMean = mean;
                }
                md.append(complete ? String.format(Locale.ROOT, " %.2f |", mean) : " – |");
                if (dense) {
                    md.append(complete && denseMean != null ? String.format(Locale.ROOT, " %+.2f |", mean - denseMean) : " – |");
                }
                md.append(' ').append(any.family().key()).append(" |\n");
            }
        }
        md.append("\n## Upstream checkpoints\n\n| method | target sparsity | actual sparsity | upstream test top-1 | train steps | wall s | stored bytes |\n")
                .append("|---|---:|---:|---:|---:|---:|---:|\n");
        for (CheckpointRecord r : checkpoints) {
            md.append(String.format(Locale.ROOT, "| %s | %.2f | %.4f | %s | %d | %.1f | %d |%n", r.method(), r.targetSparsity(),
                    r.actualSparsity(), Double.isNaN(r.upstreamTop1()) ? "– (imported)" : String.format(Locale.ROOT, "%.2f", r.upstreamTop1()),
                    r.trainSteps(), r.wallSeconds(), r.payloadBytes()));
        }
        return md.toString();
    }
}
