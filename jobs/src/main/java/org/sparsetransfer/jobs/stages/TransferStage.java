package org.sparsetransfer.jobs.stages;

import java.io.Serializable;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.sparsetransfer.core.InvalidInputException;
import org.sparsetransfer.core.checkpoint.CheckpointCodec;
import org.sparsetransfer.core.config.ExperimentConfig;
import org.sparsetransfer.core.experiment.TransferExperiment;
import org.sparsetransfer.core.prune.PruningMethod;
import org.sparsetransfer.core.task.Metric;
import org.sparsetransfer.core.task.TaskRegistry;
import org.sparsetransfer.core.transfer.Regime;
import org.sparsetransfer.jobs.tables.ResultTable;

/**
 * Fine-tunes every checkpoint of the config on every task, in every regime, for every seed.
 * One Spark task per (checkpoint, task), so linear transfer extracts features once and reuses
 * them across seeds; its rows are merged into the results table as soon as it finishes, and
 * runs already recorded as successful are skipped. The dense checkpoint is always included: it
 * is every table's baseline.
 */
public final class TransferStage {
    public static final String NAME = "transfer";

    /** One (checkpoint, task) unit with the runs still to do. */
    public record Job(CheckpointRecord checkpoint, String task, List<Regime> regimes, List<Long> seeds,
            ExperimentConfig config) implements Serializable {
        String describe() {
            return checkpoint.id() + " on " + task + " " + regimes.stream().map(Regime::key).toList() + " seeds " + seeds;
        }
    }

    /** The downstream tasks' splits, broadcast once to all tasks. */
    public record Inputs(Map<String, TaskRegistry.Splits> tasks) implements Serializable {}

    /** What one unit produced. */
    public record RunResult(Job job, List<TransferExperiment.Outcome> outcomes, String device) implements Serializable {}

    public void run(StageContext ctx) {
        ctx.describe(NAME, "planning transfer runs");
        ExperimentConfig config = ctx.config();
        List<CheckpointRecord> checkpoints = checkpoints(ctx);
        String settings = ctx.ids().transferSettingsHash();
        Set<String> done = ctx.results().completed(settings);
        List<Regime> regimes = config.transfer.regimes.stream().map(r -> Regime.parse(r, "transfer.regimes")).toList();

        List<Job> todo = new ArrayList<>();
        int total = 0;
        int skipped = 0;
        for (CheckpointRecord checkpoint : checkpoints) {
            for (String task : config.transfer.tasks) {
                // A unit runs the regimes and seeds that some run of it still needs.
                List<Regime> unitRegimes = new ArrayList<>();
                List<Long> unitSeeds = new ArrayList<>();
                for (Regime regime : regimes) {
                    for (long seed : config.transfer.seeds) {
                        total++;
                        if (done.contains(ResultTable.key(checkpoint.id(), task, regime.key(), seed))) {
                            skipped++;
                        } else {
                            if (!unitRegimes.contains(regime)) {
                                unitRegimes.add(regime);
                            }
                            if (!unitSeeds.contains(seed)) {
                                unitSeeds.add(seed);
                            }
                        }
                    }
                }
                if (!unitRegimes.isEmpty()) {
                    todo.add(new Job(checkpoint, task, unitRegimes, unitSeeds, config));
                }
            }
        }
        if (skipped > 0) {
            StageContext.log(NAME, skipped + " of " + total + " runs already have results, skipping them");
        }
        if (todo.isEmpty()) {
            StageContext.log(NAME, "all " + total + " transfer runs are done");
            return;
        }
        StageContext.log(NAME, String.format("%d units (checkpoint x task) to run: %d checkpoints, tasks %s, regimes %s, seeds %s",
                todo.size(), checkpoints.size(), config.transfer.tasks, config.transfer.regimes, config.transfer.seeds));
        Map<String, TaskRegistry.Splits> tasks = new LinkedHashMap<>();
        for (String task : config.transfer.tasks) {
            tasks.put(task, new TaskRegistry.Splits(ctx.datasets().read(task, "train"), null, ctx.datasets().read(task, "test")));
        }
        Broadcast<Inputs> inputs = ctx.jsc().broadcast(new Inputs(tasks));
        List<TrainingJobs.Described> units = todo.stream().map(job -> new TrainingJobs.Described(() -> {
            RunResult result = TrainingJobs.onExecutor(ctx.jsc(), job, j -> transfer(j, inputs.value()));
            TrainingJobs.persist(() -> ctx.results().write(rows(result, settings)));
        }, job.describe())).toList();
        TrainingJobs.run(ctx.jsc(), NAME, units);
        inputs.destroy();
    }

    /** The dense checkpoint and every pruned checkpoint the config asks for, all of which must exist. */
    static List<CheckpointRecord> checkpoints(StageContext ctx) {
        List<String> ids = new ArrayList<>();
        ids.add(ctx.ids().denseId());
        for (String name : ctx.config().pruning.methods) {
            PruningMethod method = PruningMethod.parse(name, "pruning.methods");
            if (method != PruningMethod.DENSE) {
                for (double sparsity : ctx.config().pruning.sparsities) {
                    ids.add(ctx.ids().prunedId(method, sparsity));
                }
            }
        }
        Map<String, CheckpointRecord> found = new LinkedHashMap<>();
        ctx.checkpoints().getAll(ids).forEach(r -> found.put(r.id(), r));
        List<String> missing = ids.stream().filter(id -> !found.containsKey(id)).toList();
        if (!missing.isEmpty()) {
            throw new InvalidInputException("Checkpoints " + missing + " are not in " + ctx.warehouse().checkpoints()
                    + "; run the upstream and prune commands with this config first");
        }
        List<CheckpointRecord> ordered = ids.stream().map(found::get).toList();
        ordered.forEach(CheckpointRecord::decode); // fail on a corrupt checkpoint before any work
        return ordered;
    }

    private static RunResult transfer(Job job, Inputs inputs) throws Exception {
        String tag = NAME + " " + job.checkpoint().id() + " " + job.task();
        CheckpointCodec.Decoded upstream = job.checkpoint().decode();
        TransferExperiment experiment = new TransferExperiment(job.config(), Devices.forTask());
        List<TransferExperiment.Outcome> outcomes = experiment.run(upstream.weights(), upstream.mask(),
                inputs.tasks().get(job.task()), job.regimes(), job.seeds(), line -> StageContext.log(tag, line));
        return new RunResult(job, outcomes, Devices.forTask().toString());
    }

    private static List<Row> rows(RunResult result, String settings) {
        Job job = result.job();
        Metric metric = TaskRegistry.get(job.task(), "transfer.tasks").metric();
        Timestamp now = new Timestamp(System.currentTimeMillis());
        List<Row> rows = new ArrayList<>();
        for (TransferExperiment.Outcome o : result.outcomes()) {
            boolean ok = o.error() == null;
            rows.add(RowFactory.create(job.checkpoint().id(), settings, job.task(), o.regime().key(), o.seed(),
                    job.checkpoint().method(), job.checkpoint().targetSparsity(), job.checkpoint().actualSparsity(), metric.key(),
                    ok ? metric.percent(o.scores()) : null, ok ? 100 * o.scores().top1() : null,
                    ok ? 100 * o.scores().meanPerClass() : null, ok ? "ok" : "failed", o.error(), o.steps(), o.wallSeconds(),
                    result.device(), now));
        }
        return rows;
    }
}
