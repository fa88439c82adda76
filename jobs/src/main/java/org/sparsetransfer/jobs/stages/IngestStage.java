package org.sparsetransfer.jobs.stages;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Row;
import org.apache.spark.util.CollectionAccumulator;
import org.sparsetransfer.core.config.ExperimentConfig;
import org.sparsetransfer.core.data.DemoSources;
import org.sparsetransfer.core.io.FileSource;
import org.sparsetransfer.core.data.ImageSource;
import org.sparsetransfer.core.task.TaskRegistry;
import org.sparsetransfer.core.vision.ImageEncoding;
import org.sparsetransfer.core.vision.IngestPlan;
import org.sparsetransfer.core.vision.Resampling;
import org.sparsetransfer.jobs.data.DemoData;
import org.sparsetransfer.jobs.tables.DatasetTable;

/**
 * Builds the upstream and downstream splits and stores them in the datasets table; datasets
 * already ingested with the same split rules are skipped. Demo sources (fetched when missing) are
 * built and checked on the driver before the first is written. Image datasets are listed and
 * checked on the driver (class counts, split sizes), then read and decoded on the executors in
 * partitions of {@value #IMAGES_PER_PARTITION} files (a CIFAR batch file each), resized once to
 * {@code data.images.resize}; each dataset is written in one commit. An image file that cannot
 * be decoded (or is too small) is left out, counted and listed in the {@code skipped_images}
 * table with its reason; it never aborts the ingest.
 */
public final class IngestStage {
    public static final String NAME = "ingest";
    static final int IMAGES_PER_PARTITION = 256;

    public void run(StageContext ctx) {
        ctx.describe(NAME, "checking ingested datasets");
        String dataHash = ctx.ids().dataHash();
        List<String> wanted = new ArrayList<>();
        if (ctx.config().upstream.enabled) { // a transfer-only experiment has no upstream dataset
            wanted.add(TaskRegistry.upstreamDataset(ctx.config()));
        }
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
        switch (ctx.config().data.source) {
            case IMAGES -> ingestImages(ctx, missing, dataHash);
            case DEMO -> ingestDemo(ctx, missing, dataHash);
        }
    }

    private static void ingestDemo(StageContext ctx, List<String> missing, String dataHash) {
        DemoSources sources = new DemoData(ctx.config().data, line -> StageContext.log(NAME, line)).sources(ctx.files());
        Map<String, Map<String, ImageSource>> built = new LinkedHashMap<>();
        for (String dataset : missing) {
            Map<String, ImageSource> splits = new LinkedHashMap<>();
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
            CollectionAccumulator<IngestPlan.Skipped> skips = ctx.jsc().sc().collectionAccumulator("images skipped in " + plan.dataset());
            ctx.datasets().replace(plan.dataset(), ctx.spark().createDataFrame(decoded(ctx, files, plan, images.resize, dataHash, skips),
                    DatasetTable.SCHEMA));
            // A retried or speculative task reports its skips again: one entry per file.
            Map<String, IngestPlan.Skipped> skipped = new java.util.TreeMap<>();
            skips.value().forEach(s -> skipped.putIfAbsent(s.file(), s));
            ctx.datasets().writeSkipped(plan.dataset(), dataHash, List.copyOf(skipped.values()));
            Map<String, Long> stored = ctx.datasets().splitCounts(plan.dataset());
            Map<String, Long> expected = new LinkedHashMap<>();
            plan.counts().forEach((split, count) -> expected.put(split, (long) count));
            skipped.values().forEach(s -> expected.merge(s.split(), -1L, Long::sum));
            if (!stored.equals(expected)) {
                throw new IllegalStateException("dataset " + plan.dataset() + " stored " + stored + " images per split, expected " + expected);
            }
            if (!skipped.isEmpty()) {
                StageContext.log(NAME, String.format("%s: skipped %d image files that cannot be decoded or are too small (all in %s), e.g.:",
                        plan.dataset(), skipped.size(), ctx.warehouse().skippedImages()));
                skipped.values().stream().limit(SKIPPED_SHOWN).forEach(s -> StageContext.log(NAME, "  " + s.reason()));
            }
            StageContext.log(NAME, "ingested " + plan.dataset() + " (" + stored + ", " + images.resize + "x" + images.resize + " RGB"
                    + (skipped.isEmpty() ? "" : ", " + skipped.size() + " files skipped") + ")");
        }
    }

    /** Skipped files named in the log; the table has them all. */
    private static final int SKIPPED_SHOWN = 10;

    /** The plan's units, decoded on the executors into rows of the datasets table. */
    private static JavaRDD<Row> decoded(StageContext ctx, FileSource files, IngestPlan plan, int side, String dataHash,
            CollectionAccumulator<IngestPlan.Skipped> skips) {
        List<IngestPlan.Unit> units = plan.units();
        long images = units.stream().filter(u -> u.kind() == IngestPlan.Kind.IMAGE).count();
        int partitions = (int) Math.max(1, (units.size() - images) + (images + IMAGES_PER_PARTITION - 1) / IMAGES_PER_PARTITION);
        String dataset = plan.dataset();
        int classes = plan.numClasses();
        int[] val = plan.val();
        Resampling.Filter filter = Resampling.Filter.parse(ctx.config().data.images.interpolation, "data.images.interpolation");
        ImageEncoding storage = ImageEncoding.parse(ctx.config().data.images.storage, "data.images.storage");
        return ctx.jsc().parallelize(units, partitions).flatMap(unit -> {
            List<Row> rows = new ArrayList<>();
            // Labels are in range by construction: folder indices, and CifarReader checks each record's label.
            IngestPlan.Decoded decoded = IngestPlan.decode(files, unit, side, filter, val);
            for (IngestPlan.Stored s : decoded.stored()) {
                rows.add(DatasetTable.row(dataset, s.split(), s.index(), s.label(), classes, side, side, storage.encode(s.image()),
                        storage, dataHash));
            }
            decoded.skipped().forEach(skips::add);
            return rows.iterator();
        });
    }
}
