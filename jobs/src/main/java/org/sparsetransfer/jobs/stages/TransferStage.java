package org.sparsetransfer.jobs.stages;

import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.commons.lang3.SerializationUtils;
import org.apache.spark.TaskContext;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.sparsetransfer.core.InvalidInputException;
import org.sparsetransfer.core.SoftwareVersion;
import org.sparsetransfer.core.checkpoint.CheckpointCodec;
import org.sparsetransfer.core.config.ExperimentConfig;
import org.sparsetransfer.core.data.ImageSource;
import org.sparsetransfer.core.experiment.FeatureCache;
import org.sparsetransfer.core.experiment.TransferExperiment;
import org.sparsetransfer.core.experiment.ExperimentPlan;
import org.sparsetransfer.core.method.PruningMethod;
import org.sparsetransfer.core.task.Metric;
import org.sparsetransfer.core.task.TaskRegistry;
import org.sparsetransfer.core.train.LocalSgd;
import org.sparsetransfer.core.transfer.Regime;
import org.sparsetransfer.jobs.storage.Storage;
import org.sparsetransfer.jobs.tables.CheckpointTable;
import org.sparsetransfer.jobs.tables.DatasetTable;
import org.sparsetransfer.jobs.tables.ResultTable;
import org.sparsetransfer.jobs.tables.TrainingStates;
import org.sparsetransfer.jobs.tables.Warehouse;

/**
 * Fine-tunes every checkpoint of the config on every task, in every regime, for every seed:
 * one Spark task per full-transfer run and per checkpoint and task of linear transfer (whose
 * seeds share the frozen features), all in one Spark job spread over the executors. A task reads
 * its checkpoint and its task's images from the tables' data files itself (nothing but file
 * paths goes through the driver), and each run's row is stored in the results table soon after
 * its task succeeds (batched, see {@link ResultTable.Writer}), keyed so that a rerun replaces
 * rather than adds.
 * Runs already recorded as successful are skipped. The dense checkpoint is always included:
 * it is every table's baseline (in a transfer-only experiment, the imported one if any). Files a
 * config lists under {@code imported} are imported first, once.
 */
public final class TransferStage {
    public static final String NAME = "transfer";

    /** A checkpoint to transfer: what the report needs about it, and where executors read it. */
    public record Source(String id, String method, double targetSparsity, double actualSparsity,
            CheckpointTable.Location location) implements Serializable {}

    /**
     * One transfer run: a Spark task's whole input. Its training saves its states under
     * {@code stateScope} in the warehouse at {@code warehouse} (a URI; null: saves none).
     */
    public record Run(int index, Source source, String task, List<String> taskFiles, Regime regime, long seed,
            ExperimentConfig config, boolean failFirstAttempt, String warehouse, String stateScope) implements Serializable {
        String describe() {
            return source.id() + " on " + task + " " + regime.key() + " seed " + seed;
        }

        /** How this run's training saves its states, on the executor that runs it. */
        LocalSgd.StatePolicy states() {
            return warehouse == null ? LocalSgd.StatePolicy.NONE
                    : new TrainingStates(Storage.onExecutor(), Warehouse.parse(warehouse)).policy(stateScope,
                            config.trainingStates.everySteps);
        }
    }

    /**
     * Where a run's training states live: one scope per run of these transfer settings on this
     * checkpoint's stored bytes (a checkpoint rebuilt with other bytes starts its runs afresh;
     * result keys are no file names).
     */
    static String stateScope(String settings, CheckpointRecord checkpoint, String task, Regime regime, long seed) {
        return "transfer-" + CheckpointCodec.checksum((settings + "|" + checkpoint.checksum() + "|"
                + ResultTable.key(checkpoint.id(), task, regime.key(), seed)).getBytes(StandardCharsets.UTF_8)).substring(0, 32);
    }

    /** What a run sends back to the driver: its index among the stage's runs and its outcome, not its inputs (they can be large). */
    public record RunResult(int index, TransferExperiment.Outcome outcome, String device) implements Serializable {}

    /**
     * A Spark task's runs: one full-transfer run, or the pending seeds of one checkpoint's
     * linear transfer to one task, which share the frozen backbone's features (extracted once).
     */
    public record Shard(List<Run> runs) implements Serializable {}

    public void run(StageContext ctx) {
        ctx.describe(NAME, "planning transfer runs");
        ExperimentConfig config = ctx.config();
        List<CheckpointRecord> checkpoints = checkpoints(ctx, true);
        List<String> corrupt = ctx.checkpoints().failingChecksum(checkpoints.stream().map(CheckpointRecord::id).toList());
        if (!corrupt.isEmpty()) {
            throw new InvalidInputException("Checkpoint " + String.join(", ", corrupt) + " failed its checksum; "
                    + "delete its rows from " + ctx.warehouse().checkpoints() + " and rerun upstream and prune to rebuild it");
        }
        String settings = ctx.ids().transferSettingsHash();
        Map<String, String> recorded = ctx.results().statuses(settings);
        List<Regime> regimes = config.transfer.regimes.stream().map(r -> Regime.parse(r, "transfer.regimes")).toList();

        // The runs without a successful result; where their inputs live is resolved only if there are any.
        record Pending(CheckpointRecord checkpoint, String task, Regime regime, long seed) {}
        List<Pending> pending = new ArrayList<>();
        java.util.Set<String> storedScopes = new java.util.HashSet<>();
        int total = 0;
        for (CheckpointRecord checkpoint : checkpoints) {
            for (String task : config.transfer.tasks) {
                for (Regime regime : regimes) {
                    for (long seed : config.transfer.seeds(regime)) {
                        total++;
                        if (!ResultTable.OK.equals(recorded.get(ResultTable.key(checkpoint.id(), task, regime.key(), seed)))) {
                            pending.add(new Pending(checkpoint, task, regime, seed));
                        } else {
                            storedScopes.add(stateScope(settings, checkpoint, task, regime, seed));
                        }
                    }
                }
            }
        }
        if (pending.size() < total) {
            StageContext.log(NAME, (total - pending.size()) + " of " + total + " runs already have results, skipping them");
        }
        ctx.trainingStates().clearFinished(scopes -> scopes.stream().filter(storedScopes::contains).toList());
        if (pending.isEmpty()) {
            StageContext.log(NAME, "all " + total + " transfer runs are done");
            return;
        }
        Map<String, CheckpointTable.Location> locations = ctx.checkpoints().locate(
                pending.stream().map(p -> p.checkpoint().id()).distinct().toList());
        Map<String, List<String>> taskFiles = new LinkedHashMap<>();
        List<Run> todo = new ArrayList<>();
        for (Pending p : pending) {
            CheckpointRecord c = p.checkpoint();
            Source source = new Source(c.id(), c.method(), c.targetSparsity(), c.actualSparsity(), locations.get(c.id()));
            List<String> files = taskFiles.computeIfAbsent(p.task(), t -> ctx.datasets().files(t));
            todo.add(new Run(todo.size(), source, p.task(), files, p.regime(), p.seed(),
                    runConfig(config, source, p.task(), p.regime(), p.seed()), config.fault.failFirstTransferAttempt && todo.isEmpty(),
                    ctx.warehouse().root().uri(), stateScope(settings, c, p.task(), p.regime(), p.seed())));
        }
        List<Shard> shards = shards(todo);
        StageContext.log(NAME, String.format("%d runs in %d Spark tasks (a linear run's seeds share one): %d checkpoints x tasks %s "
                + "x regimes %s x seeds %s", todo.size(), shards.size(), checkpoints.size(), config.transfer.tasks,
                config.transfer.regimes, regimes.stream().map(r -> r.key() + " " + config.transfer.seeds(r)).toList()));
        ctx.describe(NAME, todo.size() + " transfer runs");
        long start = System.nanoTime();
        int[] stored = {0};
        ResultTable.Writer writer = ctx.results().writer(recorded.keySet());
        Map<Integer, Run> byIndex = new LinkedHashMap<>();
        todo.forEach(run -> byIndex.put(run.index(), run));
        TrainingJobs.stream(ctx.jsc(), NAME, shards, TransferStage::execute, shardResults -> {
            List<RunResult> results = shardResults.stream().flatMap(List::stream).toList();
            TrainingJobs.persist(() -> writer.write(results.stream().map(r -> row(byIndex.get(r.index()), r, settings, ctx.config()))
                    .toList()));
            results.forEach(r -> ctx.trainingStates().clear(byIndex.get(r.index()).stateScope())); // stored: nothing resumes from them
            for (RunResult r : results) {
                TransferExperiment.Outcome o = r.outcome();
                StageContext.log(NAME, String.format("%d/%d stored: %s on %s: %s", ++stored[0], todo.size(), byIndex.get(r.index()).describe(),
                        r.device(), o.error() == null ? String.format("%.2f%%", 100 * o.scores().top1()) : "FAILED " + o.error()));
            }
        });
        StageContext.log(NAME, String.format("%d runs finished in %.1f s", todo.size(), (System.nanoTime() - start) / 1e9));
    }

    /** One shard per full run, and one per checkpoint and task for the linear runs (their seeds). */
    static List<Shard> shards(List<Run> runs) {
        Map<List<Object>, List<Run>> groups = new LinkedHashMap<>();
        for (Run run : runs) {
            // Linear runs of one checkpoint and task share its extracted features.
            List<Object> key = switch (run.regime()) {
                case LINEAR -> List.of(run.source().id(), run.task());
                case FULL -> List.of(run.index());
            };
            groups.computeIfAbsent(key, k -> new ArrayList<>()).add(run);
        }
        return groups.values().stream().map(Shard::new).toList();
    }

    /** The config a run trains with: the experiment's, or for a run that {@code fault.diverge_transfer} selects, a copy with a NaN learning rate. */
    private static ExperimentConfig runConfig(ExperimentConfig config, Source source, String task, Regime regime, long seed) {
        boolean diverge = config.fault.divergeTransfer.stream()
                .anyMatch(s -> s.matches(source.method(), source.targetSparsity(), task, regime.key(), seed));
        if (!diverge) {
            return config;
        }
        ExperimentConfig copy = SerializationUtils.clone(config);
        copy.transfer.recipe(task, regime).lr = Float.NaN;
        return copy;
    }

    /**
     * Every checkpoint the config transfers, as the grid shows it: the dense checkpoint and every
     * pruned one (all of which must exist), then the imported ones under their labels (which the
     * report takes as they are stored).
     */
    static List<CheckpointRecord> checkpoints(StageContext ctx) {
        return checkpoints(ctx, false);
    }

    /** As {@link #checkpoints(StageContext)}; with {@code importMissing}, importing the config's files not imported yet. */
    static List<CheckpointRecord> checkpoints(StageContext ctx, boolean importMissing) {
        List<String> ids = new ArrayList<>();
        if (ctx.config().upstream.enabled) {
            ids.add(ctx.ids().denseId());
            for (PruningMethod method : ExperimentPlan.methods(ctx.config())) {
                for (double sparsity : method.targets(ctx.config())) {
                    ids.add(ctx.ids().prunedId(method, sparsity));
                }
            }
        }
        List<CheckpointRecord> all = new ArrayList<>(ctx.checkpoints().describeAll(ids, missing -> new InvalidInputException("Checkpoints "
                + missing + " are not in " + ctx.warehouse().checkpoints() + "; run the upstream and prune commands with this config first")));
        if (ctx.config().trainsControls()) {
            all.addAll(ctx.checkpoints().describeAll(List.copyOf(ControlStage.ids(ctx).values()), absent -> new InvalidInputException(
                    "The dense_extended checkpoints " + absent + " are not in " + ctx.warehouse().checkpoints()
                    + "; run the control command (the pipeline runs it after prune) with this config first")));
        }
        for (CheckpointRecord imported : ImportedCheckpoints.resolve(ctx, importMissing)) {
            CheckpointRecord same = all.stream().filter(c -> c.id().equals(imported.id())).findFirst().orElse(null);
            if (same != null) {
                throw new InvalidInputException("Imported checkpoint " + imported.method() + " is checkpoint " + imported.id()
                        + ", which this config already transfers as " + same.method() + "; list each checkpoint once");
            }
            all.add(imported);
        }
        if (all.isEmpty()) {
            throw new InvalidInputException("The config transfers no checkpoint");
        }
        return all;
    }

    /**
     * Runs on an executor: reads its inputs from the tables' files (cached per JVM) and trains
     * the shard's runs in order, the linear ones on features extracted once for the shard.
     */
    private static ArrayList<RunResult> execute(Shard shard) throws Exception {
        // A shard's runs share their checkpoint and task: read them, and pick the device, once.
        Run first = shard.runs().get(0);
        CheckpointCodec.Decoded upstream = ExecutorCache.get(first.source().location(),
                () -> CheckpointTable.read(first.source().location()));
        TaskRegistry.Splits splits = new TaskRegistry.Splits(split(first, "train"), null, split(first, "test"));
        var device = Devices.forTask();
        TaskContext task = TaskContext.get();
        ArrayList<RunResult> results = new ArrayList<>();
        try (FeatureCache features = FeatureCache.holdingOne()) {
            for (Run run : shard.runs()) {
                String tag = NAME + " " + run.describe();
                StageContext.log(tag, "on " + device + ", " + splits.train().size() + " training and " + splits.test().size()
                        + " test images");
                TransferExperiment.Outcome outcome = new TransferExperiment(run.config(), device).run(upstream.weights(), upstream.mask(),
                        run.task(), splits, run.regime(), run.seed(), features, run.states(), line -> StageContext.log(tag, line));
                if (run.failFirstAttempt() && task != null && task.attemptNumber() == 0) {
                    StageContext.log(tag, "fault.fail_first_transfer_attempt: failing attempt 0 of this run after it trained");
                    throw new IllegalStateException("fault.fail_first_transfer_attempt: failing attempt 0 of " + run.describe()
                            + " after it trained");
                }
                results.add(new RunResult(run.index(), outcome, device.toString()));
            }
        }
        return results;
    }

    private static ImageSource split(Run run, String split) throws Exception {
        long buffer = run.config().data.bufferBytes();
        return ExecutorCache.get(List.of(run.task(), split, run.taskFiles(), buffer),
                () -> DatasetTable.readFiles(run.task(), split, run.taskFiles(), buffer));
    }

    private static Row row(Run run, RunResult result, String settings, ExperimentConfig config) {
        TransferExperiment.Outcome o = result.outcome();
        Metric metric = TaskRegistry.metric(config, run.task(), "transfer.tasks");
        boolean ok = o.error() == null;
        return RowFactory.create(run.source().id(), settings, run.task(), run.regime().key(), run.seed(), run.source().method(),
                run.source().targetSparsity(), run.source().actualSparsity(), metric.key(), ok ? metric.percent(o.scores()) : null,
                ok ? 100 * o.scores().top1() : null, ok ? 100 * o.scores().meanPerClass() : null, ok ? ResultTable.OK : ResultTable.FAILED, o.error(),
                o.steps(), o.wallSeconds(), result.device(), new Timestamp(System.currentTimeMillis()), SoftwareVersion.current(),
                o.details().finalLoss(), o.details().penalty(), o.details().learningRate(), o.details().converged(),
                o.details().validationScore(), o.details().testCorrect());
    }
}
