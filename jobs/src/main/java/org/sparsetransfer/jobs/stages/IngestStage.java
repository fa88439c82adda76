package org.sparsetransfer.jobs.stages;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.sparsetransfer.core.config.ExperimentConfig;
import org.sparsetransfer.core.data.DemoSources;
import org.sparsetransfer.core.io.FileSource;
import org.sparsetransfer.core.data.ImageSet;
import org.sparsetransfer.core.task.TaskRegistry;
import org.sparsetransfer.core.vision.IngestPlan;
import org.sparsetransfer.jobs.data.DemoData;
import org.sparsetransfer.jobs.tables.DatasetTable;

/**
 * Builds the upstream and downstream splits and stores them in the datasets table; datasets
 * already ingested with the same split rules are skipped. Demo sources (fetched when missing) are
 * built and checked on the driver before the first is written. Image datasets are listed and
 * checked on the driver (class counts, split sizes), then read and decoded on the executors in
 * partitions of {@value #IMAGES_PER_PARTITION} files (a CIFAR batch file each), resized once to
 * {@code data.images.resize}; each dataset is written in one commit, so a file that fails to
 * decode leaves that dataset absent rather than half there.
 */
public final class IngestStage {
    public static final String NAME = "ingest";
    static final int IMAGES_PER_PARTITION = 256;

    public void run(StageContext ctx) {
        ctx.describe(NAME, "checking ingested datasets");
        String dataHash = ctx.ids().dataHash();
        List<String> wanted = new ArrayList<>();
        wanted.add(TaskRegistry.upstreamDataset(ctx.config()));
        wanted.addAll(ctx.config().transfer.tasks);
        List<String> missing = new ArrayList<>();
        for (String dataset : wanted) {
            if (ctx.datasets().has(dataset, dataHash)) {
                StageContext.log(NAME, "dataset " + dataset + " is ingested (split rules " + dataHash + "), skipping");
            } else {
                missing.add(dataset);
            }
        }
        if (missing.isEmpty()) {
            return;
        }
        if (ctx.config().data.source.equals("images")) {
            ingestImages(ctx, missing, dataHash);
        } else {
            ingestDemo(ctx, missing, dataHash);
        }
    }

    private static void ingestDemo(StageContext ctx, List<String> missing, String dataHash) {
        DemoSources sources = new DemoData(ctx.config().data, line -> StageContext.log(NAME, line)).sources(ctx.files());
        Map<String, Map<String, ImageSet>> built = new LinkedHashMap<>();
        for (String dataset : missing) {
            Map<String, ImageSet> splits = new LinkedHashMap<>();
            if (dataset.equals(TaskRegistry.UPSTREAM)) {
                TaskRegistry.Splits s = TaskRegistry.upstream(sources, ctx.config().data);
                splits.put("train", s.train());
                splits.put("val", s.val());
                splits.put("test", s.test());
            } else {
                TaskRegistry.Splits s = TaskRegistry.downstream(dataset, sources, ctx.config().data);
                splits.put("train", s.train());
                splits.put("test", s.test());
            }
            built.put(dataset, splits);
        }
        built.forEach((dataset, splits) -> {
            ctx.describe(NAME, "writing dataset " + dataset);
            ctx.datasets().write(dataset, dataHash, splits);
            StringBuilder sizes = new StringBuilder();
            splits.forEach((split, images) -> sizes.append(sizes.length() == 0 ? "" : ", ").append(split).append(' ').append(images.size()));
            StageContext.log(NAME, "ingested " + dataset + " (" + sizes + ")");
        });
    }

    private static void ingestImages(StageContext ctx, List<String> missing, String dataHash) {
        ExperimentConfig config = ctx.config();
        ExperimentConfig.Images images = config.data.images;
        FileSource files = ctx.files();
        List<IngestPlan> plans = new ArrayList<>();
        for (String dataset : missing) {
            ctx.describe(NAME, "listing " + dataset);
            plans.add(dataset.equals(IngestPlan.UPSTREAM) ? IngestPlan.upstream(files, images, config.data.splitSeed)
                    : IngestPlan.task(files, dataset, images, config.data.splitSeed));
        }
        for (IngestPlan plan : plans) {
            ctx.describe(NAME, "decoding and writing dataset " + plan.dataset() + " (" + plan.counts() + ")");
            ctx.datasets().replace(plan.dataset(), ctx.spark().createDataFrame(decoded(ctx, files, plan, images.resize, dataHash),
                    DatasetTable.SCHEMA));
            Map<String, Long> stored = ctx.datasets().splitCounts(plan.dataset());
            Map<String, Long> expected = new LinkedHashMap<>();
            plan.counts().forEach((split, count) -> expected.put(split, (long) count));
            if (!stored.equals(expected)) {
                throw new IllegalStateException("dataset " + plan.dataset() + " stored " + stored + " images per split, expected " + expected);
            }
            StageContext.log(NAME, "ingested " + plan.dataset() + " (" + stored + ", " + images.resize + "x" + images.resize + " RGB)");
        }
    }

    /** The plan's units, decoded on the executors into rows of the datasets table. */
    private static JavaRDD<Row> decoded(StageContext ctx, FileSource files, IngestPlan plan, int side, String dataHash) {
        List<IngestPlan.Unit> units = plan.units();
        long images = units.stream().filter(u -> u.kind() == IngestPlan.Kind.IMAGE).count();
        int partitions = (int) Math.max(1, (units.size() - images) + (images + IMAGES_PER_PARTITION - 1) / IMAGES_PER_PARTITION);
        String dataset = plan.dataset();
        int classes = plan.numClasses();
        int[] val = plan.val();
        return ctx.jsc().parallelize(units, partitions).flatMap(unit -> {
            List<Row> rows = new ArrayList<>();
            // Labels are in range by construction: folder indices, and CifarReader checks each record's label.
            for (IngestPlan.Stored s : IngestPlan.decode(files, unit, side, val)) {
                rows.add(RowFactory.create(dataset, s.split(), s.index(), s.label(), classes, side, side, s.image().planes(), dataHash));
            }
            return rows.iterator();
        });
    }
}
