package org.sparsetransfer.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import org.sparsetransfer.jobs.cli.SparseTransferCli;
import picocli.CommandLine;

class ModelsCommandTest {
    private static String run(String... args) {
        StringWriter out = new StringWriter();
        CommandLine cli = new CommandLine(new SparseTransferCli()).setOut(new PrintWriter(out, true));
        assertEquals(0, cli.execute(args));
        return out.toString();
    }

    @Test
    void listsTorchvisionParameterCountsForImageNetAndASmallHead() {
        String imagenet = run("models");
        assertTrue(imagenet.matches("(?s).*resnet18\\s+\\(3, 224, 224\\)\\s+11,689,512\\s.*"), imagenet);
        assertTrue(imagenet.matches("(?s).*resnet50\\s+\\(3, 224, 224\\)\\s+25,557,032\\s.*"), imagenet);
        assertTrue(imagenet.matches("(?s).*mobilenet_v1\\s+\\(3, 224, 224\\)\\s+4,231,976\\s.*"), imagenet);
        String cifar = run("models", "--classes", "10", "--side", "32");
        assertTrue(cifar.matches("(?s).*resnet18\\s+\\(3, 32, 32\\)\\s+11,181,642\\s.*"), cifar); // 512 x 10 + 10 head
        assertTrue(cifar.matches("(?s).*small_cnn\\s+\\(1, 28, 28\\)\\s+206,922\\s.*"), cifar);
    }
}
