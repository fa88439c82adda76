package org.sparsetransfer.jobs.cli;

import java.util.concurrent.Callable;
import java.util.function.Consumer;
import org.apache.spark.sql.SparkSession;
import org.sparsetransfer.core.config.ConfigLoader;
import org.sparsetransfer.core.config.ExperimentConfig;
import org.sparsetransfer.jobs.spark.SparkSessions;
import org.sparsetransfer.jobs.stages.StageContext;
import org.sparsetransfer.jobs.tables.Warehouse;
import picocli.CommandLine.Mixin;

/**
 * A command that runs one stage: loads and validates the config before touching anything,
 * then opens a Spark session for the stage and closes it after.
 */
abstract class StageCommand implements Callable<Integer> {
    @Mixin
    CommonOptions options;

    private final String stageName;
    private final Consumer<StageContext> stage;

    StageCommand(String stageName, Consumer<StageContext> stage) {
        this.stageName = stageName;
        this.stage = stage;
    }

    @Override
    public Integer call() {
        ExperimentConfig config = options.config == null ? ConfigLoader.embeddedDemo() : ConfigLoader.load(options.config);
        StageContext.log(stageName, "config " + (options.config == null ? "embedded demo" : options.config)
                + " (" + config.name + "), warehouse " + options.out.toAbsolutePath().normalize());
        options.sparkConf.forEach(System::setProperty);
        SparkSession spark = SparkSessions.create("sparse-transfer " + stageName, options.master, options.out);
        try {
            stage.accept(new StageContext(spark, config, new Warehouse(options.out)));
        } finally {
            spark.stop();
        }
        return 0;
    }
}
