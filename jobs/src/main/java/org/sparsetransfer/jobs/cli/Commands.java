package org.sparsetransfer.jobs.cli;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.sparsetransfer.core.InvalidInputException;
import org.sparsetransfer.core.config.ExperimentConfig;
import org.sparsetransfer.core.experiment.ExperimentPlan;
import org.sparsetransfer.core.method.PruningMethod;
import org.sparsetransfer.core.method.PruningMethods;
import org.sparsetransfer.jobs.stages.ControlStage;
import org.sparsetransfer.jobs.stages.IngestStage;
import org.sparsetransfer.jobs.stages.Pipeline;
import org.sparsetransfer.jobs.stages.PruneStage;
import org.sparsetransfer.jobs.stages.ReportStage;
import org.sparsetransfer.jobs.stages.TransferStage;
import org.sparsetransfer.jobs.stages.UpstreamStage;
import org.sparsetransfer.jobs.stages.StageContext;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The stage commands. Each is also a main class for spark-submit
 * ({@code --class org.sparsetransfer.jobs.cli.Commands$RunPipeline}, or use {@link SparseTransferCli}).
 */
public final class Commands {
    private Commands() {}

    @Command(name = "ingest", mixinStandardHelpOptions = true,
            description = "Read the real datasets (fetching the demo's when missing), build the fixed seeded splits "
                    + "and store them in the Delta table datasets.")
    public static final class Ingest extends StageCommand {
        public Ingest() {
            super(IngestStage.NAME, ctx -> new IngestStage().run(ctx));
        }

        public static void main(String[] args) {
            SparseTransferCli.exit(new Ingest(), args);
        }
    }

    @Command(name = "upstream", mixinStandardHelpOptions = true,
            description = "Train the dense upstream model on Fashion-MNIST and store it as the root checkpoint.")
    public static final class Upstream extends StageCommand {
        public Upstream() {
            super(UpstreamStage.NAME, ctx -> new UpstreamStage().run(ctx));
        }

        public static void main(String[] args) {
            SparseTransferCli.exit(new Upstream(), args);
        }
    }

    @Command(name = "prune", mixinStandardHelpOptions = true,
            description = "Run every pruning method of the config (or those given with --method) at every target "
                    + "sparsity from the dense checkpoint, one Spark task per run, storing each checkpoint as it finishes. "
                    + "Prune runs of different methods may run at once on one warehouse.")
    public static final class Prune extends StageCommand {
        @Option(names = "--method", paramLabel = "METHOD",
                description = "Prune only with this method of the config's pruning.methods; repeatable. Default: all.")
        List<String> methods = new ArrayList<>();

        public Prune() {
            super(PruneStage.NAME, ctx -> { });
        }

        @Override
        void run(StageContext ctx) {
            new PruneStage(selected(ctx.config())).run(ctx);
        }

        @Override
        Collection<String> lockScopes(ExperimentConfig config) {
            return selected(config).stream().map(key -> PruneStage.lockScope(PruningMethods.byKey(key, "--method"))).toList();
        }

        private Set<String> selected(ExperimentConfig config) {
            Set<String> configured = new LinkedHashSet<>(PruneStage.methods(config).stream().map(PruningMethod::key).toList());
            if (methods.isEmpty()) {
                return configured;
            }
            Set<String> chosen = new LinkedHashSet<>();
            for (String name : methods) {
                PruningMethod method = PruningMethods.byKey(name, "--method");
                if (method == PruningMethods.dense()) {
                    throw new InvalidInputException("--method dense: the dense model is the upstream checkpoint (the upstream "
                            + "command trains it); choose one of " + configured);
                }
                if (!configured.contains(method.key())) {
                    throw new InvalidInputException("--method " + name + " is not among the config's pruning.methods "
                            + config.pruning.methods + "; add it there or choose one of them");
                }
                chosen.add(method.key());
            }
            return chosen;
        }

        public static void main(String[] args) {
            SparseTransferCli.exit(new Prune(), args);
        }
    }

    @Command(name = "control", mixinStandardHelpOptions = true,
            description = "Train the compute-matched dense control (controls.dense_extended): the dense model continued for as many "
                    + "extra steps as each pruned checkpoint trained, a checkpoint at each budget. Needs the prune stage's checkpoints.")
    public static final class Control extends StageCommand {
        public Control() {
            super(ControlStage.NAME, ctx -> new ControlStage().run(ctx));
        }

        public static void main(String[] args) {
            SparseTransferCli.exit(new Control(), args);
        }
    }

    @Command(name = "transfer", mixinStandardHelpOptions = true,
            description = "Fine-tune every checkpoint on every downstream task (linear and/or full, every seed), "
                    + "one Spark task per checkpoint x task; results are merged into the Delta table transfer_results.")
    public static final class Transfer extends StageCommand {
        public Transfer() {
            super(TransferStage.NAME, ctx -> new TransferStage().run(ctx));
        }

        public static void main(String[] args) {
            SparseTransferCli.exit(new Transfer(), args);
        }
    }

    @Command(name = "report", mixinStandardHelpOptions = true,
            description = "Join the transfer results into the Delta table transfer_table and write OUT/report/ (CSVs, "
                    + "Markdown, plots, index.html). Refuses, writing nothing, while configured runs lack results.")
    public static final class Report extends StageCommand {
        @Option(names = "--as-of-run", paramLabel = "RUN_ID",
                description = "Rebuild the report of an earlier run from its recorded config and table versions "
                        + "(Delta time travel) into OUT/report/runs/RUN_ID/.")
        String asOfRun;

        @Option(names = "--allow-incomplete",
                description = "Write a partial report when configured runs lack results: every output says it is partial "
                        + "and marks the cells lacking runs.")
        boolean allowIncomplete;

        @Option(names = "--local-copy", paramLabel = "DIR",
                description = "Also copy the published report files to DIR on this machine (for a warehouse on HDFS or S3, "
                        + "so reading them needs no client for that file system).")
        java.nio.file.Path localCopy;

        public Report() {
            super(ReportStage.NAME, ctx -> { });
        }

        /** Also checks --local-copy: config() runs first, before the lock and Spark, where every option is checked. */
        @Override
        ExperimentConfig config(org.sparsetransfer.jobs.storage.Storage storage) {
            if (localCopy != null && java.nio.file.Files.exists(localCopy) && !java.nio.file.Files.isDirectory(localCopy)) {
                throw new InvalidInputException("--local-copy " + localCopy + " is a file; give a directory for the report's files");
            }
            return super.config(storage);
        }

        @Override
        void run(StageContext ctx) {
            ReportStage report = new ReportStage(allowIncomplete);
            System.out.println(asOfRun == null ? report.run(ctx) : report.runAsOf(ctx.spark(), ctx.warehouse(), asOfRun));
            if (localCopy != null) {
                report.copyPublished(ctx, asOfRun, localCopy);
            }
        }

        @Override
        boolean records() {
            return asOfRun == null;
        }

        public static void main(String[] args) {
            SparseTransferCli.exit(new Report(), args);
        }
    }

    @Command(name = "pipeline", mixinStandardHelpOptions = true,
            description = "Run ingest, upstream, prune, control, transfer and report in order, skipping what is already done, "
                    + "and print the transfer table.")
    public static final class RunPipeline extends StageCommand {
        @Option(names = "--dry-run", description = "Print the plan (stages, training runs, optimizer steps, examples) "
                + "from the config alone and exit: nothing is read, trained or written.")
        boolean dryRun;

        public RunPipeline() {
            super(Pipeline.NAME, ctx -> System.out.println(System.lineSeparator() + new Pipeline().run(ctx)));
        }

        @Override
        Collection<String> lockScopes(ExperimentConfig config) {
            return Pipeline.lockScopes(config);
        }

        @Override
        public Integer call() throws Exception {
            if (!dryRun) {
                return super.call();
            }
            Plan.print(config(org.sparsetransfer.jobs.storage.Storage.forSparkConf(sparkConf())), options.config, false);
            return 0;
        }

        public static void main(String[] args) {
            SparseTransferCli.exit(new RunPipeline(), args);
        }
    }

    @Command(name = "plan", mixinStandardHelpOptions = true,
            description = "Print what the pipeline would run for the config (stages, pruning methods with their targets, training "
                    + "runs and steps, transfer recipes) and exit: nothing is read, trained or written. With --json, one JSON "
                    + "object (the Airflow DAG takes its prune tasks from it).")
    public static final class Plan extends StageCommand {
        @Option(names = "--json", description = "Print the plan as one JSON object.")
        boolean json;

        public Plan() {
            super("plan", ctx -> { });
        }

        @Override
        Collection<String> lockScopes(ExperimentConfig config) {
            return List.of();
        }

        @Override
        public Integer call() throws Exception {
            print(config(org.sparsetransfer.jobs.storage.Storage.forSparkConf(sparkConf())), options.config, json);
            return 0;
        }

        static void print(ExperimentConfig config, String source, boolean json) throws Exception {
            long upstreamTrain = switch (config.data.source) {
                case DEMO -> config.data.upstreamTrain;
                case IMAGES -> config.data.images.upstreamTrain;
            };
            ExperimentPlan plan = ExperimentPlan.of(config, upstreamTrain);
            if (json) {
                java.util.Map<String, Object> out = new java.util.LinkedHashMap<>();
                out.put("experiment", config.name);
                out.put("model", config.model);
                out.put("config", source == null ? "embedded demo" : source);
                out.put("checkpoints", plan.checkpoints());
                out.put("stages", plan.stages());
                out.put("prune_methods", ExperimentPlan.methodEntries(config, upstreamTrain));
                System.out.println(new com.fasterxml.jackson.databind.ObjectMapper()
                        .setPropertyNamingStrategy(com.fasterxml.jackson.databind.PropertyNamingStrategies.SNAKE_CASE)
                        .writerWithDefaultPrettyPrinter().writeValueAsString(out));
                return;
            }
            System.out.println("Plan of " + config.name + " (" + config.model + ", " + (source == null ? "embedded demo" : source)
                    + "); nothing is run:");
            System.out.print(plan.format());
            System.out.print(ExperimentPlan.formatPruning(config, upstreamTrain));
            System.out.print(ExperimentPlan.formatTasks(config));
        }

        public static void main(String[] args) {
            SparseTransferCli.exit(new Plan(), args);
        }
    }
}
