package org.sparsetransfer.jobs.cli;

import ai.djl.Device;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import org.sparsetransfer.core.InvalidInputException;
import org.sparsetransfer.core.model.Architecture;
import org.sparsetransfer.core.model.Network;
import org.sparsetransfer.core.model.PrunablePolicy;
import org.sparsetransfer.core.model.TorchThreads;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** Lists the architectures with their parameter counts for a number of classes (no Spark). */
@Command(name = "models", mixinStandardHelpOptions = true,
        description = "List the model architectures with their input shape and learnable and prunable parameter counts.")
public final class ModelsCommand implements Callable<Integer> {
    @Option(names = "--classes", paramLabel = "N", defaultValue = "1000",
            description = "Classes of the head. Default: ${DEFAULT-VALUE} (ImageNet).")
    int classes;

    @Option(names = "--side", paramLabel = "PIXELS", defaultValue = "224",
            description = "Input side of the ResNets (224 for ImageNet, 32 for CIFAR). Default: ${DEFAULT-VALUE}.")
    int side;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (classes < 1 || side < 32) {
            throw new InvalidInputException("--classes must be at least 1 and --side at least 32 (the ResNets downsample 32 times)");
        }
        PrintWriter out = spec.commandLine().getOut();
        out.printf("%-10s  %-14s  %14s  %14s  %s%n", "model", "input", "parameters", "prunable", "prunable tensors (default policy)");
        TorchThreads.exclusive(() -> {
            for (Architecture known : Architecture.KNOWN) {
                Architecture a = Architecture.byName(known.name(), side);
                try (Network net = Network.classifier(a, classes, 0, Device.cpu())) {
                    var prunable = net.prunableTensors(PrunablePolicy.DEFAULT);
                    long prunableCount = prunable.stream().mapToLong(t -> net.parameters().get(t).getArray().size()).sum();
                    String input = a.inputShape(1).slice(1).toString();
                    out.printf("%-10s  %-14s  %,14d  %,14d  %d of %d weight tensors (first layer and head excluded)%n", a.name(), input,
                            net.learnableParameters(), prunableCount, prunable.size(), prunable.size() + 2);
                }
            }
            return null;
        });
        out.flush();
        return 0;
    }
}
