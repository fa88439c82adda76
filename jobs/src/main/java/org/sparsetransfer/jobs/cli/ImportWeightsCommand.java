package org.sparsetransfer.jobs.cli;

import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.apache.spark.sql.SparkSession;
import org.sparsetransfer.core.InvalidInputException;
import org.sparsetransfer.core.io.FileSource;
import org.sparsetransfer.core.checkpoint.StateDictImport;
import org.sparsetransfer.core.model.Architecture;
import org.sparsetransfer.core.model.PrunablePolicy;
import org.sparsetransfer.core.model.ResNet;
import org.sparsetransfer.jobs.spark.SparkSessions;
import org.sparsetransfer.jobs.stages.CheckpointRecord;
import org.sparsetransfer.jobs.stages.StageContext;
import org.sparsetransfer.jobs.tables.CheckpointTable;
import org.sparsetransfer.jobs.storage.HadoopFileSource;
import org.sparsetransfer.jobs.storage.Storage;
import org.sparsetransfer.jobs.tables.Warehouse;
import org.sparsetransfer.jobs.tables.WarehouseLock;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Stores a PyTorch ResNet's weights (a torchvision or SparseZoo state_dict saved as safetensors)
 * in the checkpoint table, its zeros kept as the mask. The id hashes the file, so importing the
 * same file again changes nothing.
 */
@Command(name = "import-weights", mixinStandardHelpOptions = true,
        description = "Import a PyTorch ResNet state_dict saved as safetensors into the checkpoint table "
                + "(method 'imported'; the zeros of an already-sparse model become its mask).")
public final class ImportWeightsCommand implements Callable<Integer> {
    static final String NAME = "import";

    @Option(names = "--model", required = true, paramLabel = "NAME", description = "resnet18 or resnet50.")
    String model;

    @Option(names = "--file", required = true, paramLabel = "FILE",
            description = "The state_dict as .safetensors: a local path, or a URI such as hdfs://namenode:8020/weights/r50.safetensors.")
    String file;

    @Option(names = "--classes", paramLabel = "N", defaultValue = "1000", description = "Classes of the file's head. Default: ${DEFAULT-VALUE}.")
    int classes;

    @Option(names = "--side", paramLabel = "PIXELS", defaultValue = "224", description = "Input side the model is for. Default: ${DEFAULT-VALUE}.")
    int side;

    @Option(names = "--name", paramLabel = "LABEL", description = "Label stored as the checkpoint's experiment. Default: the file name.")
    String label;

    @Option(names = "--out", paramLabel = "DIR", defaultValue = "sparse-transfer-out",
            description = "Warehouse root: a local path or a URI such as hdfs://namenode:8020/wh. Default: ${DEFAULT-VALUE}.")
    String out;

    @Option(names = "--master", paramLabel = "URL", description = "Spark master. Default: local[*].")
    String master;

    public static void main(String[] args) {
        SparseTransferCli.exit(new ImportWeightsCommand(), args);
    }

    @Override
    public Integer call() {
        Warehouse warehouse = Warehouse.parse(out);
        SparkSessions.checkMaster(master);
        if (classes < 1 || side < 32) {
            throw new InvalidInputException("--classes must be at least 1 and --side at least 32 (the ResNets downsample 32 times); "
                    + "got --classes " + classes + " --side " + side);
        }
        if (!(Architecture.byName(model, side) instanceof ResNet resnet)) {
            throw new InvalidInputException("--model " + model + ": importing torchvision weights needs resnet18 or resnet50");
        }
        String experiment = label != null ? label : FileSource.name(file);
        long start = System.nanoTime();
        org.apache.spark.SparkConf sparkConf = SparkSessions.conf("sparse-transfer import-weights", master, java.util.Map.of());
        Storage storage = Storage.forSparkConf(sparkConf);
        FileSource files = new HadoopFileSource(storage);
        StageContext.log(NAME, "reading " + file + " as a torchvision " + model + " with " + classes + " classes");
        StateDictImport.Imported imported = StateDictImport.resnet(resnet, classes, files, file, PrunablePolicy.DEFAULT);
        String id = "imported-" + model + "-" + imported.sha256().substring(0, 16);
        CheckpointRecord record = CheckpointRecord.intermediate(id, null, "imported", NAME, imported.mask().sparsity(),
                imported.weights(), imported.mask(), 0, 0, (System.nanoTime() - start) / 1e9, experiment);
        try (WarehouseLock lock = WarehouseLock.acquire(storage, warehouse, NAME, List.of(NAME))) {
            SparkSession spark = SparkSessions.create(sparkConf);
            try {
                new CheckpointTable(spark, warehouse).write(List.of(record));
            } finally {
                spark.stop();
            }
        }
        StageContext.log(NAME, String.format(Locale.ROOT, "stored %s: %,d values (BatchNorm statistics included), mask sparsity %.4f over %,d prunable weights (%s)",
                id, imported.weights().parameterCount(), imported.mask().sparsity(), imported.mask().size(), experiment));
        return 0;
    }
}
