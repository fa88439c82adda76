package org.sparsetransfer.jobs.stages;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import org.sparsetransfer.core.InvalidInputException;
import org.sparsetransfer.core.config.ExperimentConfig;
import org.sparsetransfer.core.experiment.TrainedModel;
import org.sparsetransfer.core.experiment.UpstreamExperiment;
import org.sparsetransfer.core.model.Weights;
import org.sparsetransfer.core.prune.PruningMethod;
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
    public record Job(String id, int rewindStep, ExperimentConfig config) implements Serializable {}

    /** Scoring an imported model, read by the task from the checkpoint table's files. */
    public record PretrainedJob(String id, CheckpointTable.Location imported, ExperimentConfig config) implements Serializable {}

    /** Imported models with fewer zeros than this count as dense (float weights have a few exact zeros). */
    static final double DENSE_BELOW = 0.01;

    public void run(StageContext ctx) {
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
        // With IMP rewinding weights, keep the weights of its rewind step from this same run.
        boolean keepRewind = ctx.config().pruning.methods.contains(PruningMethod.IMP.key()) && ctx.config().pruning.imp.rewindsWeights();
        String rewindId = ctx.ids().rewindId();
        Job job = new Job(id, keepRewind ? UpstreamExperiment.forPlanning(ctx.config(), data.trainExamples()).impRewindStep() : -1,
                ctx.config());
        TrainingJobs.run(ctx.jsc(), NAME, List.of(new TrainingJobs.Described(() -> {
            List<CheckpointRecord> records = train(ctx, job, rewindId, data);
            TrainingJobs.persist(() -> ctx.checkpoints().write(records));
            ctx.trainingStates().clear(id);
            StageContext.log(NAME, String.format("stored %s: upstream test top-1 %.2f%%", records.get(0).id(),
                    records.get(0).upstreamTop1()));
        }, "dense training " + id)));
    }

    private static void storePretrained(StageContext ctx, String id) {
        String importedId = ctx.config().upstream.pretrained;
        CheckpointRecord imported = ctx.checkpoints().describe(List.of(importedId)).stream().findFirst()
                .orElseThrow(() -> new InvalidInputException("upstream.pretrained " + importedId + " is not in " + ctx.warehouse().checkpoints()
                        + "; import it into this warehouse first: bin/sparse-transfer import-weights --model " + ctx.config().model
                        + " --file MODEL.safetensors --out " + ctx.warehouse().root()));
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
            CheckpointRecord record = CheckpointRecord.of(job.id(), importedId, PruningMethod.DENSE.key(), NAME, 0.0, model,
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
    private static List<CheckpointRecord> train(StageContext ctx, Job job, String rewindId, UpstreamData data) throws Exception {
        ExperimentConfig config = job.config();
        Weights init = DataParallelTraining.initialWeights(ctx.jsc(), config, data);
        LocalSgd.Result result = UpstreamExperiment.forPlanning(config, data.trainExamples()).trainDense(
                DataParallelTraining.trainer(ctx.jsc(), NAME, config, config.upstream.dataParallel, UpstreamData.TrainingRows.wholeSplit(data),
                        ctx.statePolicy(job.id())),
                init, job.rewindStep());
        TrainedModel model = DataParallelTraining.score(ctx.jsc(), NAME, config, data, result);
        return records(job, rewindId, model, result.kept());
    }

    private static List<CheckpointRecord> records(Job job, String rewindId, TrainedModel model, Weights rewind) {
        List<CheckpointRecord> records = new ArrayList<>();
        records.add(CheckpointRecord.of(job.id(), null, PruningMethod.DENSE.key(), NAME, 0.0, model, job.config().name));
        if (rewind != null) {
            records.add(CheckpointRecord.intermediate(rewindId, job.id(), PruningMethod.IMP.key(), "rewind", 0.0, rewind,
                    null, job.rewindStep(), (long) job.rewindStep() * job.config().upstream.batchSize, 0.0, job.config().name));
        }
        return records;
    }
}
