package org.sparsetransfer.core.method;

import ai.djl.Device;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.sparsetransfer.core.config.ExperimentConfig;
import org.sparsetransfer.core.config.ExperimentIds;
import org.sparsetransfer.core.data.ImageSet;
import org.sparsetransfer.core.data.ImageSource;
import org.sparsetransfer.core.experiment.TrainedModel;
import org.sparsetransfer.core.experiment.UpstreamExperiment;
import org.sparsetransfer.core.experiment.UpstreamSchedules;
import org.sparsetransfer.core.model.Weights;
import org.sparsetransfer.core.prune.Colt;
import org.sparsetransfer.core.prune.Mask;
import org.sparsetransfer.core.prune.SegmentSplit;
import org.sparsetransfer.core.task.TaskRegistry;
import org.sparsetransfer.core.train.DataParallelPlan;
import org.sparsetransfer.core.train.LocalSgd;
import org.sparsetransfer.core.train.TrainingLoop;

/**
 * A {@link PruningRun} in this JVM, on splits held in memory, storing checkpoints in a map: what
 * core's tests run methods with (the pipeline's is {@code jobs}' Spark one). Units run one after
 * another.
 */
public final class InProcessPruning implements PruningRun {
    private final ExperimentConfig config;
    private final TaskRegistry.Splits splits;
    private final UpstreamExperiment experiment;
    private final ExperimentIds ids;
    private final Weights initialization;
    private final Map<String, Checkpoint> store = new LinkedHashMap<>();
    private final TrainingLoop.Progress progress;
    private final int workers;

    /** A stored checkpoint, as this run keeps it. */
    public record Checkpoint(String id, String method, String parentId, String stage, double target, Weights weights, Mask mask,
            Cost cost, TrainedModel model) implements Stored {}

    /**
     * Pruning {@code dense} (trained from {@code initialization}, the config seed's) on
     * {@code splits}, each training over {@code workers} in-process workers.
     */
    public InProcessPruning(ExperimentConfig config, TaskRegistry.Splits splits, TrainedModel dense, Weights initialization, int workers,
            TrainingLoop.Progress progress) {
        this.config = config;
        this.splits = splits;
        this.experiment = new UpstreamExperiment(config, splits, Device.cpu());
        this.ids = new ExperimentIds(config);
        this.initialization = initialization;
        this.progress = progress;
        this.workers = workers;
        store.put(ids.denseId(), new Checkpoint(ids.denseId(), PruningMethods.dense().key(), null, "upstream", 0.0, dense.weights(),
                dense.mask(), new Cost(dense.trainSteps(), dense.examplesSeen(), dense.wallSeconds()), dense));
    }

    /** Makes every missing checkpoint of {@code method}; returns its checkpoints by target. */
    public Map<Double, Checkpoint> run(PruningMethod method) throws Exception {
        List<Double> missing = method.targets(config).stream().filter(t -> !store.containsKey(ids.prunedId(method, t))).toList();
        for (Work unit : method.work(this, missing)) {
            unit.unit().run();
        }
        Map<Double, Checkpoint> made = new LinkedHashMap<>();
        for (double target : method.targets(config)) {
            made.put(target, store.get(ids.prunedId(method, target)));
        }
        return made;
    }

    /** Every checkpoint stored so far (the dense one first), by id. */
    public Map<String, Checkpoint> checkpoints() {
        return store;
    }

    @Override
    public ExperimentConfig config() {
        return config;
    }

    @Override
    public ExperimentIds ids() {
        return ids;
    }

    @Override
    public UpstreamSchedules schedules() {
        return experiment.schedules();
    }

    @Override
    public Stored dense() {
        return store.get(ids.denseId());
    }

    @Override
    public Mask denseMask() throws Exception {
        return experiment.denseMask(dense().weights());
    }

    @Override
    public Weights initialWeights() {
        return initialization;
    }

    @Override
    public Set<String> backboneTensors() throws Exception {
        return experiment.backboneTensors();
    }

    @Override
    public int numClasses() {
        return splits.train().numClasses();
    }

    @Override
    public long[] segmentSizes(int k, SegmentSplit split) {
        return Colt.segmentMembers(splits.train().labels(), numClasses(), k, split == SegmentSplit.CLASSES, config.data.splitSeed)
                .stream().mapToLong(m -> m.length).toArray();
    }

    @Override
    public Weights withHead(Weights backbone, int classes, long seed) throws Exception {
        return experiment.withHead(backbone, classes, seed);
    }

    @Override
    public Optional<Stored> stored(String id) {
        return Optional.ofNullable(store.get(id));
    }

    @Override
    public void store(PruningMethod method, Made made) {
        store.put(made.id(), new Checkpoint(made.id(), method.key(), made.parentId(), made.stage(), made.target(), made.weights(),
                made.mask(), made.totalCost(), made.model()));
    }

    @Override
    public LocalSgd.Trainer trainer(String tag, Rows rows, String makes) {
        if (!(splits.train() instanceof ImageSet train)) {
            throw new IllegalArgumentException("in-process pruning trains on a split held on the heap (an ImageSet)");
        }
        ImageSource source = rows.wholeSplit() ? train
                : Colt.segments(train, rows.segments(), rows.split() == SegmentSplit.CLASSES, config.data.splitSeed).get(rows.index());
        List<ImageSource> shards = new ArrayList<>();
        if (workers == 1) {
            shards.add(source);
        } else {
            for (int w = 0; w < workers; w++) {
                int[] rowsOfWorker = DataParallelPlan.shard(source.size(), workers, w);
                shards.add(rows.wholeSplit() ? train.subset(train.name() + "/worker" + w, rowsOfWorker)
                        : ((ImageSet) source).subset(source.name() + "/worker" + w, rowsOfWorker));
            }
        }
        return experiment.inProcess(shards, config.pruning.dataParallel.localSteps, progress);
    }

    @Override
    public LocalSgd.Trainer denseTrainer(String tag, String makes) {
        return experiment.inProcess(progress);
    }

    @Override
    public TrainedModel score(String tag, LocalSgd.Result result) throws Exception {
        return experiment.score(result, progress);
    }

    @Override
    public void runAll(String name, List<Work> units) throws Exception {
        for (Work unit : units) {
            unit.unit().run();
        }
    }

    @Override
    public TrainingLoop.Progress progress(String tag) {
        return progress;
    }
}
