package org.sparsetransfer.jobs.stages;

import java.io.Serializable;
import java.util.List;
import java.util.Map;
import org.sparsetransfer.core.InvalidInputException;
import org.sparsetransfer.core.config.ExperimentConfig;
import org.sparsetransfer.core.data.ImageSource;
import org.sparsetransfer.core.method.PruningRun;
import org.sparsetransfer.core.prune.Colt;
import org.sparsetransfer.core.prune.SegmentSplit;
import org.sparsetransfer.core.task.TaskRegistry;
import org.sparsetransfer.core.train.DataParallelPlan;
import org.sparsetransfer.jobs.tables.DatasetTable;

/**
 * Where the upstream dataset's rows are stored (its Delta data files) and how many each split
 * holds: all a training task receives about its data. The driver resolves it from table
 * metadata and never reads an image; a task reads only the rows it trains or scores on (its
 * shard or part) from the files itself, cached per executor JVM (see {@link ExecutorCache}); a
 * shard or part over {@code bufferBytes} ({@code data.buffer_mb}) spills to local disk.
 */
public record UpstreamData(String dataset, List<String> files, long trainSize, long valSize, long testSize, long bufferBytes)
        implements Serializable {

    /** The config's upstream dataset as stored in the warehouse's datasets table. */
    static UpstreamData locate(StageContext ctx) {
        String dataset = TaskRegistry.upstreamDataset(ctx.config());
        Map<String, Long> counts = ctx.datasets().splitCounts(dataset);
        for (String split : List.of("train", "val", "test")) {
            if (!counts.containsKey(split)) {
                throw new InvalidInputException("Dataset " + dataset + "/" + split
                        + " is not in the datasets table; run the ingest command with this config first");
            }
        }
        return new UpstreamData(dataset, ctx.datasets().files(dataset), counts.get("train"), counts.get("val"), counts.get("test"),
                ctx.config().data.bufferBytes());
    }

    /** The training split's size as the trainings count it (a split held in memory has an int size). */
    int trainExamples() {
        return Math.toIntExact(trainSize);
    }

    /** The training split's labels and row order (no images), read on this executor. */
    DatasetTable.SplitIndex trainIndex() throws Exception {
        return index("train");
    }

    private DatasetTable.SplitIndex index(String split) throws Exception {
        return ExecutorCache.get(List.of(dataset, split, files, "index"), () -> DatasetTable.readIndex(dataset, split, files));
    }

    /**
     * Part {@code part} of {@code parts} of a split (every {@code parts}-th row in the stored order,
     * as {@link DataParallelPlan#shard} deals them), read on this executor without the other parts' images.
     */
    ImageSource part(String split, int part, int parts) throws Exception {
        return ExecutorCache.get(List.of(dataset, split, files, part, parts, bufferBytes), () -> {
            DatasetTable.SplitIndex index = index(split);
            return DatasetTable.readRows(dataset, split, files, index, DataParallelPlan.shard(index.size(), parts, part), bufferBytes);
        });
    }

    /** How many rows {@code split} holds, as the datasets table counts them. */
    long size(String split) {
        return switch (split) {
            case "train" -> trainSize;
            case "val" -> valSize;
            case "test" -> testSize;
            default -> throw new IllegalArgumentException("no split " + split + " (train, val or test)");
        };
    }

    /** The sizes of {@code rows}' segments (all of them), from the split's index (on an executor). */
    long[] segmentSizes(TrainingRows rows) throws Exception {
        DatasetTable.SplitIndex index = trainIndex();
        return Colt.segmentMembers(index.labels(), index.numClasses(), rows.segments(), rows.byClasses(), rows.splitSeed()).stream()
                .mapToLong(members -> members.length).toArray();
    }

    /**
     * What one data-parallel training trains on: the whole training split, or one of its segments
     * (COLT's). A worker reads only its own shard of it ({@link #shard}).
     */
    public record TrainingRows(UpstreamData data, int segments, boolean byClasses, long splitSeed, int segment)
            implements Serializable {
        /** The whole training split. */
        static TrainingRows wholeSplit(UpstreamData data) {
            return new TrainingRows(data, 0, false, 0, -1);
        }

        /** The rows a method's training asks for ({@link PruningRun.Rows}), segments split with the data's split seed. */
        static TrainingRows of(UpstreamData data, PruningRun.Rows rows, long splitSeed) {
            return rows.wholeSplit() ? wholeSplit(data)
                    : new TrainingRows(data, rows.segments(), rows.split() == SegmentSplit.CLASSES, splitSeed, rows.index());
        }

        String describe() {
            return segment < 0 ? data.dataset() + "/train" : data.dataset() + "/train segment " + segment;
        }

        /**
         * Worker {@code worker}'s shard of these rows ({@link DataParallelPlan#shard} over their
         * order), read from the files without holding the other workers' images: the split's
         * labels and order are read first, then only the shard's rows.
         */
        ImageSource shard(int worker, int workers) throws Exception {
            return ExecutorCache.get(List.of(this, worker, workers), () -> {
                DatasetTable.SplitIndex index = data.trainIndex();
                if (segment < 0) {
                    return DatasetTable.readRows(data.dataset(), "train", data.files(), index,
                            DataParallelPlan.shard(index.size(), workers, worker), data.bufferBytes());
                }
                int[] members = Colt.segmentMembers(index.labels(), index.numClasses(), segments, byClasses, splitSeed).get(segment);
                int[] positions = java.util.Arrays.stream(DataParallelPlan.shard(members.length, workers, worker)).map(i -> members[i])
                        .toArray();
                return Colt.asSegment(DatasetTable.readRows(data.dataset(), "train", data.files(), index, positions, data.bufferBytes()),
                        segments, byClasses, segment);
            });
        }
    }
}
