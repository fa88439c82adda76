package org.sparsetransfer.jobs.stages;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Row;
import org.sparsetransfer.core.config.ExperimentConfig;
import org.sparsetransfer.core.experiment.DenseExtension;
import org.sparsetransfer.core.method.PruningMethods;
import org.sparsetransfer.core.task.TaskRegistry;
import org.sparsetransfer.core.transfer.Regime;
import org.sparsetransfer.jobs.tables.ResultTable;

/**
 * The transfer table's cells from the results: per checkpoint, regime and task the seeds' values,
 * their mean and std, and the comparisons the report makes, each sparse cell against dense and
 * against its matched dense_extended control (the one trained as many extra steps):
 * <ul>
 *   <li>Welch's t-test over seeds where both sides vary over seeds;</li>
 *   <li>otherwise (an exact probe's seeds, or a single seed) McNemar's exact test on the test
 *       predictions of the first seed both sides have: the two classifiers on the same examples;</li>
 *   <li>Holm-Bonferroni's adjustment over every sparse-vs-dense comparison of a regime (imported
 *       checkpoints included), and separately over every comparison with a control.</li>
 * </ul>
 */
final class ReportCells {
    private static final String DENSE = PruningMethods.dense().key();

    private ReportCells() {}

    /** One checkpoint's runs on one task in one regime. */
    private static final class Group {
        final CheckpointRecord checkpoint;
        final String regime;
        final String task;
        String metric;
        final TreeMap<Long, Double> values = new TreeMap<>();
        final TreeMap<Long, byte[]> correct = new TreeMap<>();
        long failed;
        long unconverged;

        Group(CheckpointRecord checkpoint, String regime, String task) {
            this.checkpoint = checkpoint;
            this.regime = regime;
            this.task = task;
        }

        double[] values() {
            return values.values().stream().mapToDouble(Double::doubleValue).toArray();
        }

        double mean() {
            return values.isEmpty() ? Double.NaN : values.values().stream().mapToDouble(Double::doubleValue).average().orElseThrow();
        }
    }

    /** Positions in the rows of {@link #results}. */
    static final int CHECKPOINT = 0;
    static final int REGIME = 1;
    static final int TASK = 2;
    static final int SEED = 4;

    /** The result rows of the config's runs of {@code checkpoints} (its settings, tasks and seeds), read once per report. */
    static List<Row> results(StageContext ctx, List<CheckpointRecord> checkpoints) {
        ExperimentConfig.Transfer t = ctx.config().transfer;
        return ctx.results().table()
                .where(col("settings_hash").equalTo(lit(ctx.ids().transferSettingsHash()))
                        .and(col("checkpoint_id").isin(checkpoints.stream().map(CheckpointRecord::id).toArray()))
                        .and(col("task").isin(t.tasks.toArray()))
                        .and(configuredSeeds(t)))
                .select("checkpoint_id", "regime", "task", "metric", "seed", "status", "value", "converged", "test_correct")
                .collectAsList();
    }

    static List<ReportStage.Cell> of(StageContext ctx, List<CheckpointRecord> checkpoints, ReportStage.Missing missing, List<Row> rows) {
        ExperimentConfig config = ctx.config();
        ExperimentConfig.Transfer t = config.transfer;
        Map<String, CheckpointRecord> byId = new LinkedHashMap<>();
        checkpoints.forEach(c -> byId.put(c.id(), c));
        Map<String, Group> groups = new LinkedHashMap<>();
        for (Row r : rows) {
            CheckpointRecord c = byId.get(r.getString(0));
            Group g = groups.computeIfAbsent(key(c.id(), r.getString(1), r.getString(2)), k -> new Group(c, r.getString(1), r.getString(2)));
            g.metric = r.getString(3);
            long seed = r.getLong(4);
            if (ResultTable.OK.equals(r.getString(5)) && !r.isNullAt(6)) {
                g.values.put(seed, r.getDouble(6));
                if (!r.isNullAt(8)) {
                    g.correct.put(seed, (byte[]) r.get(8));
                }
                if (!r.isNullAt(7) && !r.getBoolean(7)) {
                    g.unconverged++;
                }
            } else {
                g.failed++;
            }
        }
        // Every configured cell, those without any result too (a partial report).
        for (CheckpointRecord c : checkpoints) {
            for (String regime : t.regimes) {
                for (String task : t.tasks) {
                    groups.computeIfAbsent(key(c.id(), regime, task), k -> {
                        Group g = new Group(c, regime, task);
                        g.metric = TaskRegistry.metric(config, task, "transfer.tasks").key();
                        return g;
                    });
                }
            }
        }

        Map<String, Group> dense = new LinkedHashMap<>();
        Map<String, Group> controls = new LinkedHashMap<>();
        for (Group g : groups.values()) {
            if (g.checkpoint.method().equals(DENSE)) {
                dense.put(g.regime + "|" + g.task, g);
            } else if (isControl(g.checkpoint)) {
                controls.put(g.regime + "|" + g.task + "|" + g.checkpoint.trainSteps(), g);
            }
        }
        List<ReportStage.Cell> cells = new ArrayList<>();
        for (Group g : groups.values()) {
            ReportStage.Comparison vsDense = g.checkpoint.method().equals(DENSE) ? ReportStage.Comparison.self(g.values.isEmpty())
                    : compare(g, dense.get(g.regime + "|" + g.task), DENSE);
            ReportStage.Comparison vsControl = g.checkpoint.method().equals(DENSE) || isControl(g.checkpoint) ? ReportStage.Comparison.NONE
                    : compare(g, controls.get(g.regime + "|" + g.task + "|" + g.checkpoint.trainSteps()), null);
            double[] values = g.values();
            cells.add(new ReportStage.Cell(g.checkpoint.method(), g.checkpoint.targetSparsity(), g.regime, g.task, g.metric,
                    g.checkpoint.methodFamily(), g.checkpoint.trainSteps(), g.checkpoint.examplesSeen(), isControl(g.checkpoint), g.mean(),
                    values.length >= 2 ? new org.apache.commons.math3.stat.descriptive.moment.StandardDeviation().evaluate(values) : null,
                    values.length, values, g.failed, missing.byCell().getOrDefault(ReportStage.cellKey(g.checkpoint, g.regime, g.task), 0L),
                    g.unconverged, vsDense, vsControl));
        }
        cells = adjusted(cells, t.regimes);
        // Grouped by family (dense first), then in the order of the checkpoints (the config's methods, controls, imports).
        List<String> methods = new ArrayList<>(List.of(DENSE));
        checkpoints.stream().map(CheckpointRecord::method).filter(m -> !methods.contains(m)).forEach(methods::add);
        cells.sort(Comparator.<ReportStage.Cell>comparingInt(c -> c.family().ordinal())
                .thenComparingInt(c -> methods.indexOf(c.method()))
                .thenComparingDouble(ReportStage.Cell::sparsity)
                .thenComparingLong(ReportStage.Cell::upstreamSteps)
                .thenComparingInt(c -> t.regimes.indexOf(c.regime()))
                .thenComparingInt(c -> t.tasks.indexOf(c.task())));
        return cells;
    }

    static boolean isControl(CheckpointRecord c) {
        return c.method().equals(DenseExtension.METHOD);
    }

    private static String key(String id, String regime, String task) {
        return id + "|" + regime + "|" + task;
    }

    /** A cell against a baseline's cell: the difference of means, and the test that fits (see the class comment). */
    static ReportStage.Comparison compare(Group g, Group base, String baseLabel) {
        if (base == null || g.values.isEmpty() || base.values.isEmpty()) {
            return base == null ? ReportStage.Comparison.NONE : new ReportStage.Comparison(label(base, baseLabel), null, null, null, null);
        }
        double delta = g.mean() - base.mean();
        double[] a = g.values();
        double[] b = base.values();
        if (Significance.welchDefined(a, b)) {
            return new ReportStage.Comparison(label(base, baseLabel), delta, Significance.welchP(a, b), Significance.WELCH, null);
        }
        for (Map.Entry<Long, byte[]> e : g.correct.entrySet()) {
            byte[] other = base.correct.get(e.getKey());
            if (other != null && other.length == e.getValue().length) {
                return new ReportStage.Comparison(label(base, baseLabel), delta, Significance.mcnemarP(e.getValue(), other,
                        8 * other.length), Significance.MCNEMAR, null);
            }
        }
        return new ReportStage.Comparison(label(base, baseLabel), delta, null, null, null);
    }

    private static String label(Group base, String baseLabel) {
        return baseLabel != null ? baseLabel : base.checkpoint.method() + "-" + base.checkpoint.trainSteps();
    }

    /**
     * The cells with Holm-adjusted p-values: per regime, one family of every sparse cell's
     * comparison with dense (the controls' own comparisons with dense are left out) and one of
     * every comparison with a control.
     */
    private static List<ReportStage.Cell> adjusted(List<ReportStage.Cell> cells, List<String> regimes) {
        List<ReportStage.Cell> out = new ArrayList<>(cells);
        for (String regime : regimes) {
            List<Integer> members = new ArrayList<>();
            for (int i = 0; i < out.size(); i++) {
                ReportStage.Cell c = out.get(i);
                if (c.regime().equals(regime) && !c.method().equals(DENSE) && !c.control()) {
                    members.add(i);
                }
            }
            for (boolean againstControl : new boolean[] {false, true}) {
                Double[] p = members.stream().map(i -> (againstControl ? out.get(i).vsControl() : out.get(i).vsDense()).p())
                        .toArray(Double[]::new);
                Double[] holm = Significance.holm(p);
                for (int j = 0; j < members.size(); j++) {
                    ReportStage.Cell c = out.get(members.get(j));
                    out.set(members.get(j), againstControl ? c.withVsControl(c.vsControl().withHolm(holm[j]))
                            : c.withVsDense(c.vsDense().withHolm(holm[j])));
                }
            }
        }
        return out;
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
}
