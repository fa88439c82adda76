package org.sparsetransfer.jobs.stages;

/** All stages in order; each skips what is already done, so a rerun resumes where it stopped. */
public final class Pipeline {
    public static final String NAME = "pipeline";

    public String run(StageContext ctx) {
        long start = System.nanoTime();
        new IngestStage().run(ctx);
        new UpstreamStage().run(ctx);
        new PruneStage().run(ctx);
        new TransferStage().run(ctx);
        String markdown = new ReportStage().run(ctx);
        StageContext.log(NAME, String.format("finished in %.1f s", (System.nanoTime() - start) / 1e9));
        return markdown;
    }
}
