package org.sparsetransfer.jobs.stages;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import org.sparsetransfer.core.InvalidInputException;
import org.sparsetransfer.core.config.ExperimentConfig;
import org.sparsetransfer.core.experiment.TrainedModel;
import org.sparsetransfer.core.experiment.UpstreamExperiment;
import org.sparsetransfer.core.model.Weights;
import java.util.Optional;
import org.sparsetransfer.core.experiment.ExperimentPlan;
import org.sparsetransfer.core.experiment.UpstreamSchedules;
import org.sparsetransfer.core.method.PruningMethod;
import org.sparsetransfer.core.method.PruningMethods;
import org.sparsetransfer.core.train.LocalSgd;
import org.sparsetransfer.jobs.tables.CheckpointTable;

/**
 * Trains the dense upstream model (Spark tasks, one per data-parallel worker) and stores it as the root checkpoint; with
 * {@code upstream.pretrained}, scores an imported model on the upstream splits instead and stores
 * that as the root (its parent the imported checkpoint).
 */
public final class UpstreamStage {
    public static final String NAME = "upstream";

    /** The work one task does. */
    public record Job(String id, PruningMethod.DenseKeep keep, String keepMethod, ExperimentConfig config) implements Serializable {
        int keepStep() {
            return keep == null ? -1 : keep.step();
        }
    }

    /** Scoring an imported model, read by the task from the checkpoint table's files. */
    public record PretrainedJob(String id, CheckpointTable.Location imported, ExperimentConfig config) implements Serializable {}

    /** Imported models with fewer zeros than this count as dense (float weights have a few exact zeros). */
    static final double DENSE_BELOW = 0.01;

    public void run(StageContext ctx) {
        if (!ctx.config().upstream.enabled) {
            StageContext.log(NAME, "a transfer-only experiment (upstream.enabled: false): nothing to train upstream");
            return;
        }
        ctx.describe(NAME, "looking for the dense checkpoint");
        String id = ctx.ids().denseId();
        ctx.trainingStates().clearFinished(scopes -> ctx.checkpoints().existing(scopes));
        if (!ctx.checkpoints().existing(List.of(id)).isEmpty()) {
            StageContext.log(NAME, "dense checkpoint " + id + " exists, skipping");
            return;
        }
        if (ctx.config().upstream.pretrained != null) {
            storePretrained(ctx, id);
            return;
        }
        UpstreamData data = UpstreamData.locate(ctx);
        StageContext.log(NAME, String.format("training dense %s on %s: %d train / %d val / %d test examples (read by the training task)",
                ctx.config().model, data.dataset(), data.trainSize(), data.valSize(), data.testSize()));
        Job job = job(ctx, id, new UpstreamSchedules(ctx.config(), data.trainExamples()));
        TrainingJobs.run(ctx.jsc(), NAME, List.of(new TrainingJobs.Described(() -> {
            List<CheckpointRecord> records = train(ctx, job, data);
            TrainingJobs.persist(() -> ctx.checkpoints().write(records));
            ctx.trainingStates().clear(id);
            StageContext.log(NAME, String.format("stored %s: upstream test top-1 %.2f%%", records.get(0).id(),
                    records.get(0).upstreamTop1()));
        }, "dense training " + id)));
    }

    /**
     * The dense training, keeping the weights of the dense step a configured method needs kept
     * from this same run (IMP's rewind point), if one does.
     */
    private static Job job(StageContext ctx, String id, UpstreamSchedules schedules) {
        Optional<PruningMethod.DenseKeep> keep = Optional.empty();
        String keepMethod = null;
        for (PruningMethod method : ExperimentPlan.methods(ctx.config())) {
            Optional<PruningMethod.DenseKeep> wanted = method.keepsFromDense(ctx.ids(), schedules);
            if (wanted.isPresent() && keep.isPresent() && wanted.get().step() != keep.get().step()) {
                // One run keeps one step; a second method's is made by its own run later (as when it is added to a config).
                continue;
            }
            if (wanted.isPresent() && keep.isEmpty()) {
                keep = wanted;
                keepMethod = method.key();
            }
        }
        return new Job(id, keep.orElse(null), keepMethod, ctx.config());
    }

    private static void storePretrained(StageContext ctx, String id) {
        String importedId = ctx.config().upstream.pretrained;
        CheckpointRecord imported = ctx.checkpoints().describe(List.of(importedId)).stream().findFirst()
                .orElseThrow(() -> new InvalidInputException("upstream.pretrained " + importedId + " is not in " + ctx.warehouse().checkpoints()
                        + "; import it into this warehouse first: bin/sparse-transfer import-weights --model " + ctx.config().model
                        + " --file MODEL.pth --method LABEL --out " + ctx.warehouse().root()));
        if (imported.actualSparsity() >= DENSE_BELOW) {
            throw new InvalidInputException(String.format("upstream.pretrained %s is %.1f%% sparse; it takes a dense model "
                    + "(the pruning methods start from it)", importedId, 100 * imported.actualSparsity()));
        }
        UpstreamData data = UpstreamData.locate(ctx);
        StageContext.log(NAME, String.format("scoring pretrained %s as the dense %s on %s: %d val / %d test examples", importedId,
                ctx.config().model, data.dataset(), data.valSize(), data.testSize()));
        PretrainedJob job = new PretrainedJob(id, ctx.checkpoints().locate(List.of(importedId)).get(importedId), ctx.config());
        TrainingJobs.run(ctx.jsc(), NAME, List.of(new TrainingJobs.Described(() -> {
            Weights weights = TrainingJobs.onExecutor(ctx.jsc(), job, j -> {
                Weights stored = CheckpointTable.read(j.imported()).weights();
                int classes = data.trainIndex().numClasses();
                try {
                    UpstreamExperiment.forModel(j.config(), classes, Devices.forTask()).requireFits(stored);
                } catch (IllegalArgumentException e) {
                    throw new InvalidInputException("upstream.pretrained " + j.imported().id() + " does not fit " + j.config().model
                            + " with " + classes + " classes: " + e.getMessage() + "; import it with --classes and --side matching the config");
                }
                return stored;
            });
            TrainedModel model = SplitEvaluation.score(ctx.jsc(), NAME, job.config(), data, weights, null,
                    job.config().upstream.dataParallel.workers, 0, 0, 0.0);
            CheckpointRecord record = CheckpointRecord.of(job.id(), importedId, PruningMethods.dense().key(), NAME, 0.0, model,
                    job.config().name);
            TrainingJobs.persist(() -> ctx.checkpoints().write(List.of(record)));
            StageContext.log(NAME, String.format("stored %s from %s: upstream test top-1 %.2f%%", record.id(), importedId,
                    record.upstreamTop1()));
        }, "scoring pretrained " + importedId)));
    }

    /**
     * The dense training over upstream.data_parallel.workers Spark tasks (one by default), from an
     * initialization made on an executor: the dense checkpoint, then the rewind checkpoint if the
     * job asked to keep one.
     */
    private static List<CheckpointRecord> train(StageContext ctx, Job job, UpstreamData data) throws Exception {
        ExperimentConfig config = job.config();
        Weights init = DataParallelTraining.initialWeights(ctx.jsc(), config, data);
        LocalSgd.Result result = new UpstreamSchedules(config, data.trainExamples()).trainDense(
                DataParallelTraining.trainer(ctx.jsc(), NAME, config, config.upstream.dataParallel, UpstreamData.TrainingRows.wholeSplit(data),
                        ctx.statePolicy(job.id())),
                init, job.keepStep());
        TrainedModel model = DataParallelTraining.score(ctx.jsc(), NAME, config, data, result);
        return records(job, model, result.kept());
    }

    private static List<CheckpointRecord> records(Job job, TrainedModel model, Weights kept) {
        List<CheckpointRecord> records = new ArrayList<>();
        records.add(CheckpointRecord.of(job.id(), null, PruningMethods.dense().key(), NAME, 0.0, model, job.config().name));
        if (kept != null && job.keep() != null) {
            int step = job.keepStep();
            records.add(CheckpointRecord.intermediate(job.keep().id(), job.id(), job.keepMethod(), "rewind", 0.0, kept,
                    null, step, (long) step * job.config().upstream.batchSize, 0.0, job.config().name));
        }
        return records;
    }
}
