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
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.sparsetransfer.core.InvalidInputException;
import org.apache.spark.sql.SparkSession;
import org.sparsetransfer.core.config.ConfigLoader;
import org.sparsetransfer.core.config.ExperimentConfig;
import org.sparsetransfer.jobs.tables.ResultTable;
import org.sparsetransfer.jobs.tables.RunTable;
import org.sparsetransfer.jobs.tables.Warehouse;
import org.sparsetransfer.core.task.TaskRegistry;

/**
 * Joins the config's transfer results into the transfer table (method x sparsity x regime x
 * task: mean and std over seeds, delta vs dense), stored as a Delta table and exported to
 * {@code report/transfer_table.csv} and a readable Markdown pivot.
 */
public final class ReportStage {
    public static final String NAME = "report";
    public static final String CSV_NAME = "transfer_table.csv";
    public static final String MARKDOWN_NAME = "transfer_table.md";
    public static final String UPSTREAM_CSV_NAME = "upstream_table.csv";
    public static final String HTML_NAME = "index.html";

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
            .add("p_vs_dense", DataTypes.DoubleType, true);

    /** Significance level of the Welch t-test against dense that the tables mark. */
    static final double ALPHA = 0.05;

    /**
     * One cell of the table: a (method, sparsity, regime, task) over seeds; n_failed counts
     * diverged seeds (when all did, mean is NaN and the tables say "failed"); pVsDense is
     * Welch's two-sided t-test of its seeds against dense's (null when either side has fewer
     * than two seeds or no variance).
     */
    public record Cell(String method, double sparsity, String regime, String task, String metric, double mean, Double std,
            long nSeeds, Double deltaVsDense, long nFailed, double[] values, Double pVsDense) {

        boolean significant() {
            return pVsDense != null && pVsDense < ALPHA;
        }

        boolean allFailed() {
            return nSeeds == 0;
        }

        /** How the Markdown and HTML tables show the cell: mean ± std, * when significant, failed runs counted. */
        String display() {
            if (allFailed()) {
                return "failed (" + nFailed + " of " + nFailed + " runs)";
            }
            return String.format(Locale.ROOT, "%.2f", mean) + (std == null ? "" : String.format(Locale.ROOT, " ± %.2f", std))
                    + (nFailed > 0 ? " (" + nFailed + " failed)" : "");
        }
    }

    /** Builds the table, writes it everywhere, and returns the Markdown. */
    public String run(StageContext ctx) {
        ctx.describe(NAME, "joining transfer results");
        List<CheckpointRecord> checkpoints = TransferStage.checkpoints(ctx);
        List<Cell> cells = cells(ctx, checkpoints);
        List<Row> rows = cells.stream().map(c -> RowFactory.create(c.method(), c.sparsity(), c.regime(), c.task(), c.metric(),
                c.allFailed() ? null : c.mean(), c.std(), c.nSeeds(), c.deltaVsDense(), c.nFailed(), c.pVsDense())).toList();
        ctx.spark().createDataFrame(rows, SCHEMA).coalesce(1).write().format("delta").mode("overwrite")
                .option("overwriteSchema", "true").save(ctx.warehouse().transferTable());
        return export(ctx, ctx.warehouse().reportDir(), cells, checkpoints);
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
        List<CheckpointRecord> checkpoints = TransferStage.checkpoints(past);
        return export(past, warehouse.reportDir().resolve("runs").resolve(runId), cells(past, checkpoints), checkpoints);
    }

    private String export(StageContext ctx, Path dir, List<Cell> cells, List<CheckpointRecord> checkpoints) {
        if (cells.isEmpty()) {
            throw new InvalidInputException("No transfer results for this config in " + ctx.warehouse().transferResults()
                    + "; run the transfer command first");
        }
        String markdown = markdown(ctx.config(), cells, checkpoints);
        writeAtomically(dir.resolve(CSV_NAME), csv(cells));
        writeAtomically(dir.resolve(MARKDOWN_NAME), markdown);
        writeAtomically(dir.resolve(UPSTREAM_CSV_NAME), upstreamCsv(checkpoints));
        List<String> plots = new ReportPlots(ctx.config(), cells, checkpoints).writeAll(dir);
        writeAtomically(dir.resolve(HTML_NAME), ReportHtml.page(ctx.config(), cells, checkpoints, plots));
        StageContext.log(NAME, cells.size() + " cells written to " + dir.resolve(CSV_NAME) + ", " + MARKDOWN_NAME + ", "
                + UPSTREAM_CSV_NAME + ", " + plots.size() + " plots and " + dir.resolve(HTML_NAME));
        return markdown;
    }

    static List<Cell> cells(StageContext ctx, List<CheckpointRecord> checkpoints) {
        ExperimentConfig.Transfer t = ctx.config().transfer;
        List<String> ids = checkpoints.stream().map(CheckpointRecord::id).toList();
        Dataset<Row> results = ctx.results().table()
                .where(col("settings_hash").equalTo(lit(ctx.ids().transferSettingsHash()))
                        .and(col("checkpoint_id").isin(ids.toArray()))
                        .and(col("task").isin(t.tasks.toArray()))
                        .and(col("regime").isin(t.regimes.toArray()))
                        .and(col("seed").isin(t.seeds.toArray())));
        List<Row> grouped = results.groupBy("method", "sparsity", "regime", "task", "metric")
                .agg(avg(when(col("status").equalTo(ResultTable.OK), col("value"))).as("mean"),
                        stddev_samp(when(col("status").equalTo(ResultTable.OK), col("value"))).as("std"),
                        sum(when(col("status").equalTo(ResultTable.OK), 1).otherwise(0)).as("n_seeds"),
                        count(lit(1)).as("n_runs"),
                        collect_list(when(col("status").equalTo(ResultTable.OK), col("value"))).as("values"))
                .collectAsList();
        Map<String, Double> denseMeans = new LinkedHashMap<>();
        Map<String, double[]> denseValues = new LinkedHashMap<>();
        for (Row r : grouped) {
            if (r.getString(0).equals("dense") && !r.isNullAt(5)) {
                denseMeans.put(r.getString(2) + "|" + r.getString(3), r.getDouble(5));
                denseValues.put(r.getString(2) + "|" + r.getString(3), values(r));
            }
        }
        List<Cell> cells = new ArrayList<>();
        for (Row r : grouped) {
            String key = r.getString(2) + "|" + r.getString(3);
            Double dense = denseMeans.get(key);
            double mean = r.isNullAt(5) ? Double.NaN : r.getDouble(5); // NaN: every seed of this cell failed
            double[] values = values(r);
            Double p = r.getString(0).equals("dense") || !denseValues.containsKey(key) ? null
                    : Significance.welchP(values, denseValues.get(key));
            cells.add(new Cell(r.getString(0), r.getDouble(1), r.getString(2), r.getString(3), r.getString(4), mean,
                    r.isNullAt(6) ? null : r.getDouble(6), r.getLong(7), dense == null || r.isNullAt(5) ? null : mean - dense,
                    r.getLong(8) - r.getLong(7), values, p));
        }
        List<String> methods = new ArrayList<>(List.of("dense"));
        ctx.config().pruning.methods.stream().filter(m -> !m.equals("dense")).forEach(methods::add);
        cells.sort(Comparator.<Cell>comparingInt(c -> methods.indexOf(c.method()))
                .thenComparingDouble(Cell::sparsity)
                .thenComparingInt(c -> t.regimes.indexOf(c.regime()))
                .thenComparingInt(c -> t.tasks.indexOf(c.task())));
        return cells;
    }

    private static double[] values(Row r) {
        List<Double> list = r.getList(9);
        return list.stream().mapToDouble(Double::doubleValue).toArray();
    }

    static String csv(List<Cell> cells) {
        List<List<Object>> rows = new ArrayList<>();
        for (Cell c : cells) {
            rows.add(List.of(c.method(), fmt(c.sparsity()), c.regime(), c.task(), c.metric(), c.allFailed() ? "" : fmt(c.mean()),
                    c.std() == null ? "" : fmt(c.std()), c.nSeeds(), c.deltaVsDense() == null ? "" : fmt(c.deltaVsDense())));
        }
        return csv(List.of("method", "sparsity", "regime", "task", "metric", "mean", "std", "n_seeds", "delta_vs_dense"), rows);
    }

    /** One row per checkpoint the report covers, dense included. */
    static String upstreamCsv(List<CheckpointRecord> checkpoints) {
        List<List<Object>> rows = new ArrayList<>();
        for (CheckpointRecord r : checkpoints) {
            rows.add(List.of(r.method(), fmt(r.targetSparsity()), fmt(r.actualSparsity()), fmt(r.upstreamTop1()),
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

    /** Per regime: one row per (method, sparsity), one column per task, then the mean over tasks. */
    static String markdown(ExperimentConfig config, List<Cell> cells, List<CheckpointRecord> checkpoints) {
        StringBuilder md = new StringBuilder();
        md.append("# Transfer accuracy: ").append(config.name).append("\n\n");
        md.append("Mean ± std over seeds ").append(config.transfer.seeds).append(", in percent. Metric per task: ");
        List<String> metrics = new ArrayList<>();
        for (String task : config.transfer.tasks) {
            metrics.add(task + " " + TaskRegistry.metric(config, task, "transfer.tasks").key());
        }
        md.append(String.join(", ", metrics)).append(". Δ is the mean over tasks minus dense's. ")
                .append("* marks a cell that differs from dense significantly (Welch's t-test over seeds, p < 0.05); ")
                .append("\"failed\" marks a cell whose runs all diverged (their errors are in the transfer_results table).\n");
        for (String regime : config.transfer.regimes) {
            md.append("\n## ").append(regime).append(" finetuning\n\n| method | sparsity |");
            config.transfer.tasks.forEach(task -> md.append(' ').append(task).append(" |"));
            md.append(" mean over tasks | Δ vs dense |\n|---|---:|");
            config.transfer.tasks.forEach(task -> md.append("---:|"));
            md.append("---:|---:|\n");
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
                        if (!c.allFailed()) {
                            sum += c.mean();
                            n++;
                        }
                    }
                }
                double mean = n == 0 ? Double.NaN : sum / n;
                boolean complete = n == config.transfer.tasks.size();
                if (any.method().equals("dense") && complete) {
                    denseMean = mean;
                }
                md.append(complete ? String.format(Locale.ROOT, " %.2f |", mean) : " – |");
                md.append(complete && denseMean != null ? String.format(Locale.ROOT, " %+.2f |", mean - denseMean) : " – |");
                md.append('\n');
            }
        }
        md.append("\n## Upstream checkpoints\n\n| method | target sparsity | actual sparsity | upstream test top-1 | train steps | wall s | stored bytes |\n")
                .append("|---|---:|---:|---:|---:|---:|---:|\n");
        for (CheckpointRecord r : checkpoints) {
            md.append(String.format(Locale.ROOT, "| %s | %.2f | %.4f | %.2f | %d | %.1f | %d |%n", r.method(), r.targetSparsity(),
                    r.actualSparsity(), r.upstreamTop1(), r.trainSteps(), r.wallSeconds(), r.payloadBytes()));
        }
        return md.toString();
    }

    static void writeAtomically(Path target, String content) {
        try {
            Files.createDirectories(target.getParent());
            Path tmp = Files.createTempFile(target.getParent(), "." + target.getFileName(), ".tmp");
            Files.writeString(tmp, content);
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
