package org.sparsetransfer.jobs.cli;

import ai.djl.Device;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import org.sparsetransfer.core.checkpoint.StateDictExport;
import org.sparsetransfer.core.checkpoint.SyntheticCheckpoints;
import org.sparsetransfer.core.checkpoint.pytorch.Safetensors;
import org.sparsetransfer.core.checkpoint.pytorch.TorchSaveWriter;
import org.sparsetransfer.core.io.FileSink;
import org.sparsetransfer.core.io.FileSource;
import org.sparsetransfer.core.model.Network;
import org.sparsetransfer.core.model.PrunablePolicy;
import org.sparsetransfer.core.model.ResNet;
import org.sparsetransfer.core.model.TorchThreads;
import org.sparsetransfer.core.model.Weights;
import org.sparsetransfer.core.prune.MagnitudePruner;
import org.sparsetransfer.core.prune.Mask;

/**
 * The checkpoints of the generated paper-smoke experiment: a seeded ResNet-18 (1000-class head,
 * as published ImageNet models have) saved dense, and pruned by magnitude to 90% and 80% (global; and
 * layer-wise, for a second mask at 80%) in the layouts published checkpoints use, as their file names in conf/paper-smoke.yaml say.
 */
final class PaperSmokeCheckpoints {
    private PaperSmokeCheckpoints() {}

    /** Writes them under {@code dir}; returns their file names. */
    static List<String> write(FileSink sink, String dir, long seed) {
        ResNet architecture = ResNet.resnet18(224);
        Weights weights;
        Mask dense;
        try {
            Object[] made = TorchThreads.exclusive(() -> {
                try (Network net = Network.classifier(architecture, 1000, seed, Device.cpu())) {
                    // Published masks cover the first convolution too; the head is replaced by transfer.
                    Weights w = net.weights();
                    return new Object[] {w, Mask.dense(w, net.prunableTensors(new PrunablePolicy(true, false)))};
                }
            });
            weights = (Weights) made[0];
            dense = (Mask) made[1];
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        MagnitudePruner global = new MagnitudePruner(MagnitudePruner.Scope.GLOBAL);
        Mask at90 = global.prune(weights, dense, 0.9);
        Mask at80 = global.prune(weights, dense, 0.8);
        Mask layerwise80 = new MagnitudePruner(MagnitudePruner.Scope.LAYERWISE).prune(weights, dense, 0.8); // another mask at 0.8
        List<String> names = new ArrayList<>();
        save(sink, dir, "resnet18_dense.pth", SyntheticCheckpoints.inLayout(architecture, weights, dense, SyntheticCheckpoints.Layout.PLAIN), names);
        save(sink, dir, "resnet18_acdc_90.pth", SyntheticCheckpoints.inLayout(architecture, weights, at90, SyntheticCheckpoints.Layout.STUDY), names);
        save(sink, dir, "resnet18_lth_80.pth", SyntheticCheckpoints.inLayout(architecture, weights, layerwise80,
                SyntheticCheckpoints.Layout.TORCH_PRUNE), names);
        String safetensors = "resnet18_gmp_80.safetensors";
        try (OutputStream out = sink.create(FileSource.resolve(dir, safetensors))) {
            Safetensors.write(StateDictExport.toReference(architecture, weights, at80), out);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot write " + safetensors, e);
        }
        names.add(safetensors);
        return names;
    }

    private static void save(FileSink sink, String dir, String name, java.util.Map<String, Object> content, List<String> names) {
        try (OutputStream out = sink.create(FileSource.resolve(dir, name))) {
            TorchSaveWriter.write(content, out);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot write " + name, e);
        }
        names.add(name);
    }
}
