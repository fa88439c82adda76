package org.sparsetransfer.jobs.cli;

import java.io.PrintWriter;
import org.sparsetransfer.core.InvalidInputException;
import org.sparsetransfer.jobs.tables.StorageFaults;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code sparse-transfer <command> [options]}: the launcher's entry point and a spark-submit main class. */
@Command(name = "sparse-transfer", mixinStandardHelpOptions = true, version = "sparse-transfer 0.1.0",
        description = "Sparse transfer learning experiments on Spark: train a dense upstream model, prune it "
                + "with several methods (or import published sparse checkpoints), fine-tune every checkpoint on downstream tasks, and report transfer accuracy.",
        subcommands = {Commands.Ingest.class, Commands.Upstream.class, Commands.Prune.class, Commands.Control.class, Commands.Transfer.class,
                Commands.Report.class, Commands.RunPipeline.class, Commands.Plan.class, LineageCommand.class, ModelsCommand.class, ImportWeightsCommand.class, ExportCommand.class, SynthImagesCommand.class, BenchCommand.class, CommandLine.HelpCommand.class})
public final class SparseTransferCli implements Runnable {
    /** Exit code for bad input (config, data, arguments). */
    public static final int EXIT_BAD_INPUT = 2;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static void main(String[] args) {
        exit(new SparseTransferCli(), args);
    }

    static void exit(Object command, String[] args) {
        System.exit(execute(command, args));
    }

    /** Runs a command; bad input prints one "error:" line and returns {@link #EXIT_BAD_INPUT}. */
    public static int execute(Object command, String... args) {
        return execute(command, new PrintWriter(System.err, true), args);
    }

    /** As {@link #execute(Object, String...)}, with errors printed to {@code err}. */
    public static int execute(Object command, PrintWriter err, String... args) {
        CommandLine cli = new CommandLine(command);
        cli.setErr(err);
        // A mistyped option or value: one line naming it, not the whole usage text.
        cli.setParameterExceptionHandler((e, args2) -> {
            PrintWriter out = e.getCommandLine().getErr();
            String name = e.getCommandLine().getCommandSpec().qualifiedName();
            String suggestions = e instanceof CommandLine.UnmatchedArgumentException u && !u.getSuggestions().isEmpty()
                    ? "; did you mean " + String.join(" or ", u.getSuggestions()) + "?" : "";
            out.println("error: " + e.getMessage().strip().replace('\n', ' ') + suggestions + " (see " + name + " --help)");
            out.flush();
            return EXIT_BAD_INPUT;
        });
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            InvalidInputException bad = StorageFaults.asBadInput(e);
            PrintWriter out = commandLine.getErr();
            if (bad != null) {
                out.println("error: " + bad.getMessage());
                out.flush();
                return EXIT_BAD_INPUT;
            }
            e.printStackTrace(out);
            out.flush();
            return 1;
        });
        return cli.execute(args);
    }
}
