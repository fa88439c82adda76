package org.sparsetransfer.jobs.stages;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.apache.spark.api.java.JavaSparkContext;
import org.sparsetransfer.core.checkpoint.CheckpointCodec;
import org.sparsetransfer.core.config.ExperimentConfig;
import org.sparsetransfer.core.config.ExperimentIds;
import org.sparsetransfer.core.experiment.TrainedModel;
import org.sparsetransfer.core.experiment.UpstreamExperiment;
import org.sparsetransfer.core.experiment.UpstreamSchedules;
import org.sparsetransfer.core.method.PruningMethod;
import org.sparsetransfer.core.method.PruningRun;
import org.sparsetransfer.core.model.Weights;
import org.sparsetransfer.core.prune.Mask;
import org.sparsetransfer.core.prune.SegmentSplit;
import org.sparsetransfer.core.train.LocalSgd;
import org.sparsetransfer.core.train.TrainingLoop;

/**
 * The pipeline's {@link PruningRun}: every training runs as Spark tasks by
 * {@link DataParallelTraining} (over pruning.data_parallel.workers workers, one by default),
 * everything that needs the engine or the data (initial weights, masks, heads, segment sizes)
 * runs on an executor, scoring too ({@link SplitEvaluation}), and checkpoints go to the Delta
 * checkpoints table as each is made. It names no method: the methods' algorithms are core's.
 */
public final class SparkPruningRun implements PruningRun {
    /**
     * What the model is made of, computed on an executor (where the engine and the data are) from
     * {@code weights} (the dense model's, or a backbone; null when not needed).
     */
    public record ModelJob(ExperimentConfig config, UpstreamData data, Weights weights, int classes, long seed) implements Serializable {
        ModelJob(ExperimentConfig config, UpstreamData data, Weights weights) {
            this(config, data, weights, 0, 0);
        }

        UpstreamExperiment experiment() throws Exception {
            return UpstreamExperiment.forModel(config, data.trainIndex().numClasses(), Devices.forTask());
        }
    }

    private final StageContext ctx;
    private final JavaSparkContext jsc;
    private final ExperimentConfig config;
    private final UpstreamData data;
    private final Stored dense;
    private final UpstreamSchedules schedules;
    private Mask denseMask;
    private Weights initialWeights;
    private Integer numClasses;

    SparkPruningRun(StageContext ctx, CheckpointRecord dense, UpstreamData data) {
        this.ctx = ctx;
        this.jsc = ctx.jsc();
        this.config = ctx.config();
        this.data = data;
        this.dense = new StoredRecord(dense);
        this.schedules = new UpstreamSchedules(config, data.trainExamples());
    }

    /** A stored checkpoint's row, decoded (checksum verified) when its weights are first asked for. */
    private static final class StoredRecord implements Stored {
        private final CheckpointRecord record;
        private CheckpointCodec.Decoded decoded;

        StoredRecord(CheckpointRecord record) {
            this.record = record;
        }

        @Override
        public String id() {
            return record.id();
        }

        @Override
        public String method() {
            return record.method();
        }

        @Override
        public Cost cost() {
            return new Cost(record.trainSteps(), record.examplesSeen(), record.wallSeconds());
        }

        @Override
        public synchronized Weights weights() {
            return decoded().weights();
        }

        @Override
        public synchronized Mask mask() {
            return decoded().mask();
        }

        private CheckpointCodec.Decoded decoded() {
            if (decoded == null) {
                decoded = record.decode();
            }
            return decoded;
        }
    }

    @Override
    public ExperimentConfig config() {
        return config;
    }

    @Override
    public ExperimentIds ids() {
        return ctx.ids();
    }

    @Override
    public UpstreamSchedules schedules() {
        return schedules;
    }

    @Override
    public Stored dense() {
        return dense;
    }

    @Override
    public synchronized Mask denseMask() {
        if (denseMask == null) {
            denseMask = TrainingJobs.onExecutor(jsc, new ModelJob(config, data, dense.weights()), j -> j.experiment().denseMask(j.weights()));
        }
        return denseMask;
    }

    @Override
    public synchronized Weights initialWeights() {
        if (initialWeights == null) {
            initialWeights = DataParallelTraining.initialWeights(jsc, config, data);
        }
        return initialWeights;
    }

    @Override
    public Set<String> backboneTensors() {
        // As a list: task results travel through Kryo, which knows ArrayList.
        return new LinkedHashSet<>(TrainingJobs.onExecutor(jsc, new ModelJob(config, data, null),
                j -> new ArrayList<>(j.experiment().backboneTensors())));
    }

    @Override
    public synchronized int numClasses() {
        if (numClasses == null) {
            numClasses = TrainingJobs.onExecutor(jsc, new ModelJob(config, data, null), j -> j.data().trainIndex().numClasses());
        }
        return numClasses;
    }

    @Override
    public long[] segmentSizes(int k, SegmentSplit split) {
        UpstreamData.TrainingRows rows = UpstreamData.TrainingRows.of(data, Rows.segment(k, split, 0), config.data.splitSeed);
        return TrainingJobs.onExecutor(jsc, rows, r -> r.data().segmentSizes(r));
    }

    @Override
    public Weights withHead(Weights backbone, int classes, long seed) {
        return TrainingJobs.onExecutor(jsc, new ModelJob(config, data, backbone, classes, seed),
                j -> j.experiment().withHead(j.weights(), j.classes(), j.seed()));
    }

    @Override
    public Optional<Stored> stored(String id) {
        return ctx.checkpoints().get(id).map(StoredRecord::new);
    }

    /** Stores a checkpoint, then deletes the training states that made it. */
    @Override
    public void store(PruningMethod method, Made made) {
        CheckpointRecord record;
        if (made.model() != null) {
            record = CheckpointRecord.of(made.id(), made.parentId(), method.key(), made.stage(), made.target(), made.model(), config.name)
                    .afterChain(made.cost().steps(), made.cost().examples(), made.cost().seconds());
        } else {
            record = CheckpointRecord.intermediate(made.id(), made.parentId(), method.key(), made.stage(), made.target(), made.weights(),
                    made.mask(), made.cost().steps(), made.cost().examples(), made.cost().seconds(), config.name);
        }
        TrainingJobs.persist(() -> ctx.checkpoints().write(List.of(record)));
        ctx.trainingStates().clear(record.id());
        StageContext.log(PruneStage.NAME, Double.isNaN(record.upstreamTop1())
                ? String.format("stored %s: sparsity %.4f", record.id(), record.actualSparsity())
                : String.format("stored %s: sparsity %.4f, upstream test top-1 %.2f%%, %d steps",
                        record.id(), record.actualSparsity(), record.upstreamTop1(), record.trainSteps()));
    }

    @Override
    public LocalSgd.Trainer trainer(String tag, Rows rows, String makes) {
        return DataParallelTraining.trainer(jsc, tag, config, config.pruning.dataParallel,
                UpstreamData.TrainingRows.of(data, rows, config.data.splitSeed), ctx.statePolicy(makes));
    }

    @Override
    public LocalSgd.Trainer denseTrainer(String tag, String makes) {
        return DataParallelTraining.trainer(jsc, tag, config, config.upstream.dataParallel, UpstreamData.TrainingRows.wholeSplit(data),
                ctx.statePolicy(makes));
    }

    @Override
    public TrainedModel score(String tag, LocalSgd.Result result) {
        return DataParallelTraining.score(jsc, tag, config, data, result);
    }

    @Override
    public void runAll(String name, List<Work> units) {
        TrainingJobs.run(jsc, name, units.stream().map(SparkPruningRun::described).toList());
    }

    static TrainingJobs.Described described(Work work) {
        return new TrainingJobs.Described(() -> work.unit().run(), work.description());
    }

    @Override
    public TrainingLoop.Progress progress(String tag) {
        return line -> StageContext.log(tag, line);
    }
}
