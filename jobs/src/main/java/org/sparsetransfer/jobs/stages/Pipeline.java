package org.sparsetransfer.jobs.stages;

import java.util.ArrayList;
import java.util.List;
import org.sparsetransfer.core.config.ExperimentConfig;

/** All stages in order; each skips what is already done, so a rerun resumes where it stopped. */
public final class Pipeline {
    public static final String NAME = "pipeline";

    public String run(StageContext ctx) {
        long start = System.nanoTime();
        new IngestStage().run(ctx);
        new UpstreamStage().run(ctx);
        new PruneStage().run(ctx);
        new ControlStage().run(ctx);
        new TransferStage().run(ctx);
        String markdown = new ReportStage().run(ctx);
        StageContext.log(NAME, String.format("finished in %.1f s", (System.nanoTime() - start) / 1e9));
        return markdown;
    }

    /** Everything the stages write: a pipeline run excludes every other run of the same parts. */
    public static List<String> lockScopes(ExperimentConfig config) {
        List<String> scopes = new ArrayList<>(List.of(IngestStage.NAME, UpstreamStage.NAME, ControlStage.NAME, TransferStage.NAME,
                ReportStage.NAME));
        PruneStage.methods(config).forEach(method -> scopes.add(PruneStage.lockScope(method)));
        return scopes;
    }
}
