package org.sparsetransfer.jobs.bench;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.spark.sql.SparkSession;
import org.sparsetransfer.core.config.ConfigLoader;
import org.sparsetransfer.core.config.ExperimentConfig;
import org.sparsetransfer.jobs.cli.SparseTransferCli;
import org.sparsetransfer.jobs.spark.SparkSessions;
import org.sparsetransfer.jobs.stages.StageContext;
import org.sparsetransfer.jobs.stages.TransferStage;
import org.sparsetransfer.jobs.tables.Warehouse;
import org.sparsetransfer.jobs.tables.WarehouseLock;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * The fan-out benchmark's Spark application ({@code bench/fanout.sh}, started through
 * {@code SPARSE_TRANSFER_MAIN}): the transfer stage of one config on each of several copies of a
 * prepared warehouse in turn, in one application. The copies make every round the same work
 * (nothing is cached across them: executors key their cache by file path); the one application
 * makes the rounds after the first run on warm executors. The first round also pays every JVM's
 * start and JIT compilation, about 20 s of CPU per JVM on the benchmark machine against a minute
 * of training, which a long run on a cluster pays once. Each round prints the stage's
 * "N runs finished in S s" line. Not a CLI command: it needs warehouses prepared for it.
 */
@Command(name = "transfer-rounds", mixinStandardHelpOptions = true,
        description = "Runs the transfer stage on each WAREHOUSE in turn in one Spark application (fan-out benchmark).")
public final class TransferRounds implements Callable<Integer> {
    @Option(names = "--config", required = true, paramLabel = "FILE", description = "Experiment config (YAML).")
    Path config;

    @Option(names = "--master", required = true, paramLabel = "URL", description = "Spark master.")
    String master;

    @Option(names = "--conf", paramLabel = "KEY=VALUE", description = "Extra Spark property; repeatable.")
    Map<String, String> sparkConf = new LinkedHashMap<>();

    @Parameters(arity = "1..*", paramLabel = "WAREHOUSE", description = "Warehouses with upstream and pruning done, one per round.")
    List<Path> warehouses;

    @Override
    public Integer call() {
        ExperimentConfig experiment = ConfigLoader.load(config);
        SparkSession spark = SparkSessions.create("sparse-transfer transfer-rounds", master, sparkConf);
        try {
            for (int round = 0; round < warehouses.size(); round++) {
                Warehouse warehouse = new Warehouse(warehouses.get(round));
                StageContext.log("transfer-rounds", "round " + (round + 1) + " of " + warehouses.size() + " on " + warehouse.root());
                try (WarehouseLock lock = WarehouseLock.acquire(warehouse, TransferStage.NAME)) {
                    new TransferStage().run(new StageContext(spark, experiment, warehouse));
                }
            }
        } finally {
            spark.stop();
        }
        return 0;
    }

    public static void main(String[] args) {
        System.exit(SparseTransferCli.execute(new TransferRounds(), args));
    }
}
