package org.sparsetransfer.jobs.stages;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.sparsetransfer.core.data.DemoSources;
import org.sparsetransfer.core.data.ImageSet;
import org.sparsetransfer.core.task.TaskRegistry;
import org.sparsetransfer.jobs.data.DemoData;

/**
 * Reads the real source files (fetching the demo's when missing), builds the upstream and
 * downstream splits, and stores them in the datasets table. Every dataset is built and checked
 * before the first is written, so a missing or corrupt file leaves the table untouched;
 * datasets already ingested with the same split rules are skipped.
 */
public final class IngestStage {
    public static final String NAME = "ingest";

    public void run(StageContext ctx) {
        ctx.describe(NAME, "checking ingested datasets");
        String dataHash = ctx.ids().dataHash();
        List<String> wanted = new ArrayList<>();
        wanted.add(TaskRegistry.UPSTREAM);
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
        DemoSources sources = new DemoData(ctx.config().data, line -> StageContext.log(NAME, line)).sources();
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
}
