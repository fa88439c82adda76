package org.sparsetransfer.jobs.cli;

import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.apache.spark.sql.SparkSession;
import org.sparsetransfer.core.InvalidInputException;
import org.sparsetransfer.core.config.ConfigLoader;
import org.sparsetransfer.core.io.FileSource;
import org.sparsetransfer.core.method.MethodFamily;
import org.sparsetransfer.core.model.Architecture;
import org.sparsetransfer.jobs.spark.SparkSessions;
import org.sparsetransfer.jobs.stages.CheckpointRecord;
import org.sparsetransfer.jobs.stages.ImportedCheckpoints;
import org.sparsetransfer.jobs.tables.CheckpointTable;
import org.sparsetransfer.jobs.storage.HadoopFileSource;
import org.sparsetransfer.jobs.storage.Storage;
import org.sparsetransfer.jobs.tables.Warehouse;
import org.sparsetransfer.jobs.tables.WarehouseLock;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Stores a checkpoint published elsewhere (a PyTorch {@code torch.save} file or safetensors, in
 * any layout docs/usage.md lists) in the checkpoints table under a method label of the user's
 * choice, its masks (or zeros) as its mask. The id hashes the file with the label and family, so
 * importing the same file again changes nothing. Prints {@code id=... method=... sparsity=...}.
 */
@Command(name = "import-weights", mixinStandardHelpOptions = true,
        description = "Import a PyTorch checkpoint (.pth/.pt from torch.save, or .safetensors; plain, wrapped, DataParallel, "
                + "mask-wrapped or torch.nn.utils.prune layouts) of resnet18, resnet50 or mobilenet_v1 into the checkpoints "
                + "table under a method label, to transfer beside the pipeline's methods (config section imported) or to "
                + "start from (upstream.pretrained). Prints one line: id=ID method=LABEL sparsity=S.")
public final class ImportWeightsCommand implements Callable<Integer> {
    static final String NAME = ImportedCheckpoints.STAGE;

    @Option(names = "--model", required = true, paramLabel = "NAME",
            description = "resnet18, resnet50 (torchvision's keys), mobilenet_v1 (Distiller's keys, the study's) or small_cnn.")
    String model;

    @Option(names = "--file", required = true, paramLabel = "FILE",
            description = "The checkpoint: a local path, or a URI such as hdfs://namenode:8020/weights/r50.pth.")
    String file;

    @Option(names = {"--method", "--name"}, required = true, paramLabel = "LABEL",
            description = "The label the tables show it under, e.g. acdc_published; not a built-in method's key. "
                    + "(--name is the older spelling of this option.)")
    String label;

    @Option(names = "--family", paramLabel = "FAMILY", defaultValue = "unspecified",
            description = "Its method's family: magnitude, lottery_ticket, regularization, regrowth, semi_structured, "
                    + "second_order or unspecified. Default: ${DEFAULT-VALUE}.")
    String family;

    @Option(names = "--classes", paramLabel = "N",
            description = "Classes of the file's head, if you want them checked (they are read from the head; a file without a head is fine).")
    Integer classes;

    @Option(names = "--side", paramLabel = "PIXELS", defaultValue = "224",
            description = "Input side the model is for (no weight depends on it). Default: ${DEFAULT-VALUE}.")
    int side;

    @Mixin
    WarehouseOptions warehouseOptions;


    public static void main(String[] args) {
        SparseTransferCli.exit(new ImportWeightsCommand(), args);
    }

    @Override
    public Integer call() {
        Warehouse warehouse = Warehouse.parse(warehouseOptions.out);
        SparkSessions.checkMaster(warehouseOptions.master);
        if ((classes != null && classes < 1) || side < 32) {
            throw new InvalidInputException("--classes must be at least 1 and --side at least 32 (the RGB models downsample 32 times); "
                    + "got --classes " + classes + " --side " + side);
        }
        Architecture architecture = Architecture.byName(model, side);
        ConfigLoader.checkImportLabel(label, "--method");
        MethodFamily methodFamily = MethodFamily.parse(family, "--family");
        if (methodFamily == MethodFamily.DENSE) {
            throw new InvalidInputException("--family dense: give the family of a pruning method; a dense model is imported "
                    + "without one and used as upstream.pretrained or imported.dense");
        }
        org.apache.spark.SparkConf sparkConf = SparkSessions.conf("sparse-transfer import-weights", warehouseOptions.master, java.util.Map.of());
        Storage storage = Storage.forSparkConf(sparkConf);
        FileSource files = new HadoopFileSource(storage);
        // Read and checked before anything is locked or written: a bad file stores nothing.
        CheckpointRecord record = ImportedCheckpoints.read(architecture, classes, files, file, label, methodFamily, label);
        try (WarehouseLock lock = WarehouseLock.acquire(storage, warehouse, NAME, List.of(NAME))) {
            SparkSession spark = SparkSessions.create(sparkConf);
            try {
                new CheckpointTable(spark, warehouse).write(List.of(record));
            } finally {
                spark.stop();
            }
        }
        System.out.println(String.format(Locale.ROOT, "id=%s method=%s sparsity=%.4f", record.id(), record.method(), record.actualSparsity()));
        return 0;
    }
}
