package org.sparsetransfer.jobs.stages;

import java.io.Serializable;
import java.sql.Timestamp;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.sparsetransfer.core.SoftwareVersion;
import org.sparsetransfer.core.checkpoint.CheckpointCodec;
import org.sparsetransfer.core.experiment.TrainedModel;
import org.sparsetransfer.core.model.Weights;
import org.sparsetransfer.core.prune.Mask;

/**
 * One row of the checkpoints table: lineage (id, parent), what produced it, how sparse and how
 * accurate it is upstream, what training cost, the encoded weights with their checksum, and the
 * software that computed it ({@link SoftwareVersion}; null for rows stored before it was recorded).
 * An imported checkpoint also records its method's family (built-in methods have theirs in the
 * registry: null) and where it came from ({@code source}: the file, its length and modification
 * time, which a rerun matches to find it without reading the file again).
 */
public record CheckpointRecord(String id, String parentId, String method, String stage, double targetSparsity,
        double actualSparsity, double upstreamTop1, double upstreamValTop1, int trainSteps, long examplesSeen,
        double wallSeconds, long prunableParams, long totalParams, byte[] payload, long payloadBytes, String checksum,
        String experiment, String softwareVersion, String family, String source) implements Serializable {

    /** Encodes a trained model (sparsity measured over the mask's tensors, accuracies in percent). */
    public static CheckpointRecord of(String id, String parentId, String method, String stage, double target,
            TrainedModel model, String experiment) {
        byte[] payload = CheckpointCodec.encode(model.weights(), model.mask());
        return new CheckpointRecord(id, parentId, method, stage, target, model.sparsity(), 100 * model.test().top1(),
                100 * model.val().top1(), model.trainSteps(), model.examplesSeen(), model.wallSeconds(),
                model.mask() == null ? 0 : model.mask().size(), model.weights().parameterCount(), payload, payload.length,
                CheckpointCodec.checksum(payload), experiment, SoftwareVersion.current(), null, null);
    }

    /**
     * A checkpoint that is a step of a schedule, not a trained upstream model (IMP's rewind point,
     * a COLT round's shared mask): its accuracies are NaN.
     */
    public static CheckpointRecord intermediate(String id, String parentId, String method, String stage, double target,
            Weights weights, Mask mask, int trainSteps, long examplesSeen, double wallSeconds, String experiment) {
        byte[] payload = CheckpointCodec.encode(weights, mask);
        return new CheckpointRecord(id, parentId, method, stage, target, mask == null ? 0.0 : mask.sparsity(), Double.NaN,
                Double.NaN, trainSteps, examplesSeen, wallSeconds, mask == null ? 0 : mask.size(), weights.parameterCount(),
                payload, payload.length, CheckpointCodec.checksum(payload), experiment, SoftwareVersion.current(), null, null);
    }

    /**
     * An imported checkpoint: no parent, no training, upstream accuracy unknown (NaN); its target
     * sparsity is its measured one (4 decimals), the grid's sparsity for it.
     */
    public static CheckpointRecord imported(String id, String label, String family, Weights weights, Mask mask, double wallSeconds,
            String experiment, String source) {
        byte[] payload = CheckpointCodec.encode(weights, mask);
        double sparsity = mask.sparsity();
        return new CheckpointRecord(id, null, label, "import", Math.round(sparsity * 10_000) / 10_000.0, sparsity, Double.NaN,
                Double.NaN, 0, 0, wallSeconds, mask.size(), weights.parameterCount(), payload, payload.length,
                CheckpointCodec.checksum(payload), experiment, SoftwareVersion.current(), family, source);
    }

    /** Its method's family: the recorded one (an import's), else the registered method's. */
    public org.sparsetransfer.core.method.MethodFamily methodFamily() {
        return family != null ? org.sparsetransfer.core.method.MethodFamily.parse(family, "checkpoint " + id)
                : org.sparsetransfer.core.method.PruningMethods.byKey(method, "checkpoint " + id).family();
    }

    /** This record as the grid shows it: under {@code label}, of {@code family} (an imported checkpoint's role in a config). */
    public CheckpointRecord labelled(String label, String family) {
        return new CheckpointRecord(id, parentId, label, stage, targetSparsity, actualSparsity, upstreamTop1, upstreamValTop1,
                trainSteps, examplesSeen, wallSeconds, prunableParams, totalParams, payload, payloadBytes, checksum, experiment,
                softwareVersion, family, source);
    }

    /** This record with the training cost of its chain so far added (IMP and COLT count the whole schedule). */
    public CheckpointRecord afterChain(int steps, long examples, double seconds) {
        return new CheckpointRecord(id, parentId, method, stage, targetSparsity, actualSparsity, upstreamTop1, upstreamValTop1,
                trainSteps + steps, examplesSeen + examples, wallSeconds + seconds, prunableParams, totalParams, payload, payloadBytes,
                checksum, experiment, softwareVersion, family, source);
    }

    /** The weights and mask, after verifying the checksum (only for a record read with its payload). */
    public CheckpointCodec.Decoded decode() {
        return CheckpointCodec.decode(payload, checksum, id);
    }

    public Row toRow() {
        return RowFactory.create(id, parentId, method, stage, targetSparsity, actualSparsity, upstreamTop1, upstreamValTop1,
                trainSteps, examplesSeen, wallSeconds, prunableParams, totalParams, payload, payloadBytes, checksum,
                experiment, new Timestamp(System.currentTimeMillis()), softwareVersion, family, source);
    }

    /** A record from a table row; without a {@code payload} column (a metadata read) its payload is null. */
    public static CheckpointRecord fromRow(Row r) {
        byte[] payload = r.schema().getFieldIndex("payload").isDefined() ? r.getAs("payload") : null;
        return new CheckpointRecord(r.getAs("id"), r.getAs("parent_id"), r.getAs("method"), r.getAs("stage"),
                r.getAs("target_sparsity"), r.getAs("actual_sparsity"), r.getAs("upstream_top1"), r.getAs("upstream_val_top1"),
                r.getAs("train_steps"), r.getAs("examples_seen"), r.getAs("wall_s"), r.getAs("prunable_params"),
                r.getAs("total_params"), payload, r.<Long>getAs("payload_bytes"), r.getAs("checksum"), r.getAs("experiment"),
                optional(r, "software_version"), optional(r, "family"), optional(r, "source"));
    }

    /** A nullable column that rows read without it (a metadata read, an older table) lack. */
    private static String optional(Row r, String column) {
        return r.schema().getFieldIndex(column).isDefined() ? r.getAs(column) : null;
    }
}
