package org.sparsetransfer.core.experiment;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.OptionalLong;
import org.sparsetransfer.core.config.ExperimentConfig;
import org.sparsetransfer.core.method.MethodPlan;
import org.sparsetransfer.core.method.PruningMethod;
import org.sparsetransfer.core.method.PruningMethods;
import org.sparsetransfer.core.task.TaskRegistry;
import org.sparsetransfer.core.transfer.Regime;

/**
 * What a pipeline run of a config amounts to, from the config alone (no data is read, nothing is
 * trained): per stage its Spark training runs and optimizer steps, with the same schedules the
 * stages use. COLT's rounds depend on how its masks overlap, so its count is an upper bound (and
 * a COLT recipe in epochs is sized with equal segments).
 */
public record ExperimentPlan(List<Stage> stages, int checkpoints) {
    /** One stage: its training runs, their optimizer steps, and the batch they take. */
    public record Stage(String name, long runs, long steps, int batch, boolean upperBound, String detail) {
        /** Examples the stage's optimizer steps process. */
        public long examples() {
            return steps * batch;
        }
    }

    /** The plan of {@code config}; {@code upstreamTrain} is the number of upstream training examples. */
    public static ExperimentPlan of(ExperimentConfig config, long upstreamTrain) {
        UpstreamSchedules schedules = new UpstreamSchedules(config, upstreamTrain);
        ExperimentConfig.Pruning p = config.pruning;
        List<Stage> stages = new ArrayList<>();
        boolean upstream = config.upstream.enabled;
        int taskCount = config.transfer.tasks.size();
        stages.add(new Stage("ingest", 0, 0, 0, false, upstream ? (1 + taskCount) + " datasets (the upstream one and " + taskCount
                + " tasks)" : taskCount + " datasets (the tasks; a transfer-only experiment has no upstream dataset)"));
        if (!upstream) {
            stages.add(new Stage("upstream", 0, 0, 0, false, "none: a transfer-only experiment"));
        } else if (config.upstream.pretrained != null) {
            stages.add(new Stage("upstream", 1, 0, 0, false, "scores the pretrained " + config.upstream.pretrained + " (no training)"));
        } else {
            stages.add(new Stage("upstream", 1, schedules.denseSteps(), config.upstream.batchSize, false,
                    String.format(Locale.ROOT, "%s, %d epochs of %,d images", config.model, config.upstream.epochs, upstreamTrain)));
        }

        long runs = 0;
        long steps = 0;
        boolean bounded = false;
        int checkpoints = upstream || config.imported.dense != null ? 1 : 0; // the dense model
        List<String> detail = new ArrayList<>();
        for (PruningMethod method : methods(config)) {
            MethodPlan plan = method.plan(schedules);
            runs += plan.runs();
            steps += plan.steps();
            bounded |= plan.upperBound();
            checkpoints += method.targets(config).size();
            detail.add(plan.detail());
        }
        stages.add(new Stage("prune", runs, steps, p.batchSize, bounded, detail.isEmpty() ? "none" : String.join(", ", detail)));
        int pruned = checkpoints - (upstream || config.imported.dense != null ? 1 : 0);
        boolean controls = config.trainsControls() && pruned > 0;
        if (controls) {
            // The budgets are the pruned checkpoints' steps, known after prune: at most one control per pruned checkpoint, each
            // at most the longest method's plan, so the trunk is shorter than that and every cooldown branch at most its fraction.
            long longest = methods(config).stream().mapToLong(m -> m.plan(schedules).steps()).max().orElse(0);
            long cooldown = Math.max(1, Math.round(config.controls.cooldown * longest));
            stages.add(new Stage("control", 1 + pruned, longest + (pruned - 1) * cooldown, config.upstream.batchSize, true,
                    "dense_extended: the dense model continued on a constant-rate trunk, a cooldown branch to each of the pruned "
                    + "checkpoints' budgets (known after prune), at most " + pruned));
            checkpoints += pruned;
        }
        int imported = config.imported.checkpoints.size();
        checkpoints += imported;
        if (imported > 0 || config.imported.dense != null) {
            stages.add(new Stage("import", 0, 0, 0, false, (imported + (config.imported.dense != null ? 1 : 0))
                    + " imported checkpoints (" + String.join(", ", importedLabels(config)) + "), read once each"));
        }

        ExperimentConfig.Transfer t = config.transfer;
        long transferRuns = 0;
        long transferSteps = 0;
        List<String> seeds = new ArrayList<>();
        List<TaskPlan> tasks = tasks(config);
        boolean tasksUnsized = false;
        for (String name : t.regimes) {
            Regime regime = Regime.parse(name, "transfer.regimes");
            long seedCount = t.seeds(regime).size();
            seeds.add(name + " " + seedCount);
            for (TaskPlan task : tasks) {
                OptionalLong taskSteps = task.steps(regime);
                tasksUnsized |= taskSteps.isEmpty();
                transferRuns += checkpoints * seedCount;
                transferSteps += checkpoints * seedCount * taskSteps.orElse(0);
            }
        }
        stages.add(new Stage("transfer", transferRuns, transferSteps, t.batchSize, controls, String.format(Locale.ROOT,
                "%d checkpoints x %d tasks x regimes (seeds) %s%s", checkpoints, t.tasks.size(), String.join(", ", seeds),
                tasksUnsized ? "; steps leave out tasks sized only at ingest" : "")));
        stages.add(new Stage("report", 0, 0, 0, false, "transfer table: " + checkpoints + " checkpoints x " + t.tasks.size()
                + " tasks x " + t.regimes.size() + " regimes"));
        return new ExperimentPlan(List.copyOf(stages), checkpoints);
    }

    /**
     * One transfer task's recipes: its training split's size when the config fixes it (tasks read
     * from image trees are sized at ingest), and each regime's length.
     */
    public record TaskPlan(String task, OptionalLong trainSize, ExperimentConfig config) {
        /** The regime's optimizer steps on this task, when its length is known. */
        public OptionalLong steps(Regime regime) {
            ExperimentConfig.Regime recipe = config.transfer.recipe(task, regime);
            if (probe(regime, recipe)) {
                return OptionalLong.of(0); // fitted, not stepped: its L-BFGS iterations are known only once it ran
            }
            if (recipe.steps != null) {
                return OptionalLong.of(recipe.steps);
            }
            return trainSize.isEmpty() ? OptionalLong.empty()
                    : OptionalLong.of(TransferExperiment.steps(recipe, trainSize.getAsLong(), config.transfer.batchSize));
        }

        /** e.g. "full: 150 epochs = 15,600 steps, lr 0.01 x0.1 at epochs [50, 100], 3 seeds". */
        public String describe(Regime regime) {
            ExperimentConfig.Regime recipe = config.transfer.recipe(task, regime);
            if (probe(regime, recipe)) {
                return String.format(Locale.ROOT, "%s: L-BFGS probe to convergence (gradient <= %s), penalty chosen on validation from %s, "
                        + "%d seeds", regime.key(), config.transfer.probe.tolerance, config.transfer.probe.l2Grid,
                        config.transfer.seeds(regime).size());
            }
            OptionalLong steps = steps(regime);
            String length = recipe.steps != null ? String.format(Locale.ROOT, "%,d steps", recipe.steps)
                    : String.format(Locale.ROOT, "%d epochs = %s", recipe.epochs,
                            steps.isPresent() ? String.format(Locale.ROOT, "%,d steps", steps.getAsLong()) : "steps known after ingest");
            String decay = recipe.lrMilestones == null ? "x" + recipe.lrGamma + " at 2/3 of the run"
                    : "x" + recipe.lrGamma + " at " + recipe.unit() + " " + recipe.lrMilestones;
            return String.format(Locale.ROOT, "%s: %s, lr %s %s, weight decay %s, %d seeds", regime.key(), length, recipe.lr, decay,
                    recipe.weightDecay, config.transfer.seeds(regime).size());
        }
    }

    /** The labels of the config's imported checkpoints, the dense baseline's first. */
    public static List<String> importedLabels(ExperimentConfig config) {
        List<String> labels = new ArrayList<>();
        if (config.imported.dense != null) {
            labels.add(PruningMethods.dense().key());
        }
        config.imported.checkpoints.forEach(c -> labels.add(c.method));
        return labels;
    }

    /** Whether {@code recipe} of {@code regime} is the L-BFGS probe (linear, solver lbfgs). */
    private static boolean probe(Regime regime, ExperimentConfig.Regime recipe) {
        return regime == Regime.LINEAR && org.sparsetransfer.core.transfer.LinearSolver.of(recipe.solver, "transfer.linear.solver")
                == org.sparsetransfer.core.transfer.LinearSolver.LBFGS;
    }

    /** The config's transfer tasks with their recipes. */
    public static List<TaskPlan> tasks(ExperimentConfig config) {
        return config.transfer.tasks.stream().map(task -> new TaskPlan(task, TaskRegistry.plannedTrainSize(config, task), config)).toList();
    }

    /** Every transfer task's recipe per configured regime, for the console (the dry run prints it under the table). */
    public static String formatTasks(ExperimentConfig config) {
        StringBuilder out = new StringBuilder("Transfer recipes per task (batch " + config.transfer.batchSize + "):\n");
        for (TaskPlan task : tasks(config)) {
            String size = task.trainSize().isPresent() ? String.format(Locale.ROOT, "%,d training images", task.trainSize().getAsLong())
                    : "training images counted at ingest";
            out.append("  ").append(task.task()).append(" (").append(size).append(")\n");
            for (String regime : config.transfer.regimes) {
                out.append("    ").append(task.describe(Regime.parse(regime, "transfer.regimes"))).append('\n');
            }
        }
        return out.toString();
    }

    /**
     * Each configured pruning method's lengths, for the console: epochs with the steps they come
     * to on an upstream training split of {@code upstreamTrain} examples (the dry run prints it).
     */
    public static String formatPruning(ExperimentConfig config, long upstreamTrain) {
        UpstreamSchedules schedules = new UpstreamSchedules(config, upstreamTrain);
        StringBuilder out = new StringBuilder(String.format(Locale.ROOT, "Pruning lengths (%,d upstream training images, batch %d):%n",
                upstreamTrain, config.pruning.batchSize));
        for (PruningMethod method : methods(config)) {
            out.append("  ").append(method.key()).append(": ").append(method.plan(schedules).lengths()).append('\n');
        }
        return out.toString();
    }

    /** One pruning method's part of the plan: what the Airflow DAG makes a prune task of. */
    public record MethodEntry(String key, String family, List<Double> targets, long runs, long steps, boolean upperBound,
            String lengths) {}

    /** Each configured pruning method's part of the plan (the dense baseline left out), in config order. */
    public static List<MethodEntry> methodEntries(ExperimentConfig config, long upstreamTrain) {
        UpstreamSchedules schedules = new UpstreamSchedules(config, upstreamTrain);
        return methods(config).stream().map(m -> {
            MethodPlan plan = m.plan(schedules);
            return new MethodEntry(m.key(), m.family().key(), m.targets(config), plan.runs(), plan.steps(), plan.upperBound(), plan.lengths());
        }).toList();
    }

    /** The config's pruning methods that make checkpoints of their own (the dense baseline left out), in config order. */
    public static List<PruningMethod> methods(ExperimentConfig config) {
        return config.pruning.methods.stream().map(name -> PruningMethods.byKey(name, "pruning.methods"))
                .filter(m -> m != PruningMethods.dense()).toList();
    }

    /** The plan as a table for the console. */
    public String format() {
        StringBuilder out = new StringBuilder(String.format(Locale.ROOT, "%-9s %10s %14s %6s %18s  %s%n", "stage", "runs",
                "steps", "batch", "examples", "what"));
        long totalRuns = 0;
        long totalExamples = 0;
        String totalBound = stages.stream().anyMatch(Stage::upperBound) ? "<=" : "";
        for (Stage s : stages) {
            String bound = s.upperBound() ? "<=" : "";
            out.append(String.format(Locale.ROOT, "%-9s %10s %14s %6s %18s  %s%n", s.name(), bound + String.format("%,d", s.runs()),
                    bound + String.format("%,d", s.steps()), s.batch() == 0 ? "" : s.batch(), bound + String.format("%,d", s.examples()),
                    s.detail()));
            totalRuns += s.runs();
            totalExamples += s.examples();
        }
        out.append(String.format(Locale.ROOT, "%-9s %10s %14s %6s %18s  %d checkpoints%n", "total", totalBound + String.format("%,d", totalRuns),
                "", "", totalBound + String.format("%,d", totalExamples), checkpoints));
        return out.toString();
    }
}
