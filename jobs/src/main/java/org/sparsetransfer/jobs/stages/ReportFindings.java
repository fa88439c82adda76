package org.sparsetransfer.jobs.stages;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.sparsetransfer.core.config.ExperimentConfig;
import org.sparsetransfer.core.method.MethodFamily;
import org.sparsetransfer.core.method.PruningMethods;

/**
 * The report's findings, computed from the run's own cells (nothing expected is written here): per
 * regime, which cells differ significantly from dense after Holm's correction, the mean delta
 * per method family, how each method's delta changes with sparsity, the same against the
 * compute-matched controls, and how many linear heads did not converge.
 */
final class ReportFindings {
    private static final String DENSE = PruningMethods.dense().key();

    private ReportFindings() {}

    /** A mean over some deltas, and how many. */
    record Mean(double sum, int n) {
        Mean add(double v) {
            return new Mean(sum + v, n + 1);
        }

        double value() {
            return sum / n;
        }
    }

    /** One regime's findings. */
    record Regime(String regime, int tested, List<ReportStage.Cell> above, List<ReportStage.Cell> below,
            Map<MethodFamily, Mean> familyDelta, Map<String, TreeMap<Double, Mean>> deltaBySparsity, int testedControl,
            List<ReportStage.Cell> aboveControl, List<ReportStage.Cell> belowControl, Map<MethodFamily, Mean> familyDeltaControl,
            Mean controlVsDense, long runs, long unconverged) {}

    /** The comparisons of one kind (against dense, or against the controls) counted up. */
    private static final class Tally {
        int tested;
        final List<ReportStage.Cell> above = new ArrayList<>();
        final List<ReportStage.Cell> below = new ArrayList<>();
        final Map<MethodFamily, Mean> byFamily = new EnumMap<>(MethodFamily.class);

        void add(ReportStage.Cell c, ReportStage.Comparison k) {
            if (k.pHolm() != null) {
                tested++;
                if (k.significant()) {
                    (k.delta() > 0 ? above : below).add(c);
                }
            }
            if (k.delta() != null) {
                byFamily.merge(c.family(), new Mean(k.delta(), 1), (a, b) -> a.add(k.delta()));
            }
        }
    }

    static List<Regime> of(ExperimentConfig config, List<ReportStage.Cell> cells) {
        List<Regime> out = new ArrayList<>();
        for (String regime : config.transfer.regimes) {
            Tally dense = new Tally();
            Tally control = new Tally();
            Map<String, TreeMap<Double, Mean>> bySparsity = new LinkedHashMap<>();
            Mean controlVsDense = new Mean(0, 0);
            for (ReportStage.Cell c : cells) {
                if (!c.regime().equals(regime) || c.method().equals(DENSE)) {
                    continue;
                }
                Double delta = c.vsDense().delta();
                if (c.control()) {
                    controlVsDense = delta == null ? controlVsDense : controlVsDense.add(delta);
                    continue;
                }
                dense.add(c, c.vsDense());
                control.add(c, c.vsControl());
                if (delta != null) {
                    bySparsity.computeIfAbsent(c.method(), m -> new TreeMap<>()).merge(c.sparsity(), new Mean(delta, 1), (a, b) -> a.add(delta));
                }
            }
            long runs = cells.stream().filter(c -> c.regime().equals(regime)).mapToLong(ReportStage.Cell::nSeeds).sum();
            long unconverged = cells.stream().filter(c -> c.regime().equals(regime)).mapToLong(ReportStage.Cell::nUnconverged).sum();
            out.add(new Regime(regime, dense.tested, dense.above, dense.below, dense.byFamily, bySparsity, control.tested, control.above,
                    control.below, control.byFamily, controlVsDense, runs, unconverged));
        }
        return out;
    }

    /** The findings as lines of text (each a sentence), per regime: what Markdown and HTML show. */
    static Map<String, List<String>> lines(List<Regime> findings, boolean hasDense, boolean hasControls) {
        Map<String, List<String>> out = new LinkedHashMap<>();
        for (Regime f : findings) {
            List<String> lines = new ArrayList<>();
            if (!hasDense) {
                lines.add(ReportStage.NO_DENSE);
            } else {
                lines.add(String.format(Locale.ROOT, "Against dense, after Holm-Bonferroni correction over the %d comparisons with a test: "
                        + "%d cells significantly above (%s), %d significantly below (%s).", f.tested(), f.above().size(), list(f.above(), true),
                        f.below().size(), list(f.below(), true)));
                if (!f.familyDelta().isEmpty()) {
                    List<String> families = new ArrayList<>();
                    f.familyDelta().forEach((family, mean) -> families.add(String.format(Locale.ROOT, "%s %+.2f (%d cells)", family.key(),
                            mean.value(), mean.n())));
                    lines.add("Mean Δ vs dense per method family: " + String.join(", ", families) + ".");
                }
                List<String> trends = new ArrayList<>();
                f.deltaBySparsity().forEach((method, bySparsity) -> {
                    if (bySparsity.size() > 1) {
                        List<String> points = new ArrayList<>();
                        bySparsity.forEach((s, mean) -> points.add(String.format(Locale.ROOT, "%+.2f at %.2f", mean.value(), s)));
                        trends.add(method + " " + String.join(", ", points));
                    }
                });
                if (!trends.isEmpty()) {
                    lines.add("Mean Δ vs dense over tasks as sparsity grows: " + String.join("; ", trends) + ".");
                }
            }
            if (hasControls) {
                lines.add(String.format(Locale.ROOT, "Against the compute-matched control (dense_extended, the dense model trained as many "
                        + "extra upstream steps), after correction over %d comparisons: %d cells significantly above (%s), %d "
                        + "significantly below (%s).", f.testedControl(), f.aboveControl().size(), list(f.aboveControl(), false),
                        f.belowControl().size(), list(f.belowControl(), false)));
                if (!f.familyDeltaControl().isEmpty()) {
                    List<String> families = new ArrayList<>();
                    f.familyDeltaControl().forEach((family, mean) -> families.add(String.format(Locale.ROOT, "%s %+.2f (%d cells)",
                            family.key(), mean.value(), mean.n())));
                    lines.add("Mean Δ vs the matched control per method family: " + String.join(", ", families) + ".");
                }
                if (f.controlVsDense().n() > 0 && hasDense) {
                    lines.add(String.format(Locale.ROOT, "The controls themselves (the extra training alone) differ from dense by %+.2f "
                            + "on average over their %d cells.", f.controlVsDense().value(), f.controlVsDense().n()));
                }
            }
            if (org.sparsetransfer.core.transfer.Regime.parse(f.regime(), "transfer.regimes") == org.sparsetransfer.core.transfer.Regime.LINEAR) {
                lines.add(f.unconverged() == 0 ? "Every linear head converged (the probe's gradient below its tolerance)."
                        : String.format(Locale.ROOT, "%d of %d linear runs did not converge (marked \"not converged\" in the table).",
                                f.unconverged(), f.runs()));
            }
            out.put(f.regime(), lines);
        }
        return out;
    }

    private static String list(List<ReportStage.Cell> cells, boolean vsDense) {
        if (cells.isEmpty()) {
            return "none";
        }
        List<String> names = new ArrayList<>();
        for (ReportStage.Cell c : cells) {
            ReportStage.Comparison k = vsDense ? c.vsDense() : c.vsControl();
            names.add(String.format(Locale.ROOT, "%s %.2f on %s %+.2f", c.label(), c.sparsity(), c.task(), k.delta()));
        }
        return String.join(", ", names);
    }
}
