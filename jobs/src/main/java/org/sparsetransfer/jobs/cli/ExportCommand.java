package org.sparsetransfer.jobs.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.apache.spark.sql.SparkSession;
import org.sparsetransfer.core.InvalidInputException;
import org.sparsetransfer.core.checkpoint.CheckpointCodec;
import org.sparsetransfer.core.checkpoint.StateDictExport;
import org.sparsetransfer.core.checkpoint.pytorch.PyTorchFiles;
import org.sparsetransfer.core.checkpoint.pytorch.TorchTensor;
import org.sparsetransfer.core.model.Architecture;
import org.sparsetransfer.jobs.spark.SparkSessions;
import org.sparsetransfer.jobs.stages.CheckpointRecord;
import org.sparsetransfer.jobs.stages.StageContext;
import org.sparsetransfer.jobs.storage.Location;
import org.sparsetransfer.jobs.storage.Storage;
import org.sparsetransfer.jobs.tables.CheckpointTable;
import org.sparsetransfer.jobs.tables.Warehouse;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Writes a stored checkpoint (pruned here or imported) as a PyTorch state dict in its
 * architecture's reference layout (torchvision's keys for the ResNets, Distiller's for
 * MobileNetV1, the project's own names for the small CNN), the mask applied, for
 * {@code torch.load(f, weights_only=True)} and {@code load_state_dict(strict=True)}. The file is
 * written under a temporary name and moved into place, so a failed export leaves nothing.
 */
@Command(name = "export", mixinStandardHelpOptions = true,
        description = "Write a stored checkpoint as a PyTorch state dict (.pth as torch.save writes it, or .safetensors, by the "
                + "file's extension) in its architecture's reference key layout, pruned weights zero.")
public final class ExportCommand implements Callable<Integer> {
    private static final String NAME = "export";

    @Option(names = "--checkpoint", required = true, paramLabel = "ID", description = "The checkpoint's id (see the checkpoints table or lineage).")
    String checkpoint;

    @Option(names = "--file", required = true, paramLabel = "FILE",
            description = "Where to write it: a .pth, .pt or .safetensors path, or a URI such as hdfs://namenode:8020/out/r50.pth.")
    String file;

    @Mixin
    WarehouseOptions warehouseOptions;


    public static void main(String[] args) {
        SparseTransferCli.exit(new ExportCommand(), args);
    }

    @Override
    public Integer call() throws IOException {
        Warehouse warehouse = Warehouse.parse(warehouseOptions.out);
        SparkSessions.checkMaster(warehouseOptions.master);
        Location target = Location.parse(file, "--file");
        if (target.name().isEmpty() || target.name().endsWith("/")) {
            throw new InvalidInputException("--file " + file + " names a directory; give a file such as model.pth or model.safetensors");
        }
        org.apache.spark.SparkConf sparkConf = SparkSessions.conf("sparse-transfer export", warehouseOptions.master, java.util.Map.of());
        Storage storage = Storage.forSparkConf(sparkConf);
        if (storage.isDirectory(target)) {
            throw new InvalidInputException("--file " + file + " is a directory; give a file such as model.pth or model.safetensors");
        }
        CheckpointRecord record;
        SparkSession spark = SparkSessions.create(sparkConf);
        try {
            record = new CheckpointTable(spark, warehouse).get(checkpoint).orElseThrow(() -> new InvalidInputException(
                    "Checkpoint " + checkpoint + " is not in " + warehouse.checkpoints() + "; the lineage command lists the stored ones"));
        } finally {
            spark.stop();
        }
        CheckpointCodec.Decoded decoded = record.decode();
        Architecture architecture = StateDictExport.architectureOf(decoded.weights(), 224);
        LinkedHashMap<String, TorchTensor> stateDict = StateDictExport.toReference(architecture, decoded.weights(), decoded.mask());
        Path local = Files.createTempFile("sparse-transfer-export-", PyTorchFiles.isSafetensorsName(target.name()) ? ".safetensors" : ".pth");
        try {
            PyTorchFiles.writeStateDict(stateDict, local);
            Location partial = target.parent().resolve("." + target.name() + ".partial");
            storage.upload(local, partial);
            storage.replace(partial, target);
        } finally {
            Files.deleteIfExists(local);
        }
        StageContext.log(NAME, String.format(Locale.ROOT, "wrote %s: %s (%s, %d tensors, %s keys), sparsity %.4f", target, record.id(),
                architecture.name(), stateDict.size(), architecture.referenceLayout(), record.actualSparsity()));
        return 0;
    }
}
