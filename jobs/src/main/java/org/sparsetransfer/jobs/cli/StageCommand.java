package org.sparsetransfer.jobs.cli;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;
import org.sparsetransfer.core.InvalidInputException;
import org.sparsetransfer.core.config.ConfigLoader;
import org.sparsetransfer.core.config.ExperimentConfig;
import org.sparsetransfer.jobs.spark.SparkSessions;
import org.sparsetransfer.jobs.stages.StageContext;
import org.sparsetransfer.jobs.storage.HadoopFileSource;
import org.sparsetransfer.jobs.storage.Storage;
import org.sparsetransfer.jobs.tables.RunTable;
import org.sparsetransfer.jobs.tables.StorageFaults;
import org.sparsetransfer.jobs.tables.Warehouse;
import org.sparsetransfer.jobs.tables.WarehouseLock;
import picocli.CommandLine.Mixin;

/**
 * A command that runs one stage: validates the config before touching anything, takes the
 * warehouse's lock, runs the stage in a Spark session, and records the run (config and table
 * versions before and after) in the runs table.
 */
abstract class StageCommand implements Callable<Integer> {
    private static final DateTimeFormatter RUN_TIME = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);

    @Mixin
    CommonOptions options;

    private final String stageName;
    private final Consumer<StageContext> stage;

    StageCommand(String stageName, Consumer<StageContext> stage) {
        this.stageName = stageName;
        this.stage = stage;
    }

    /** Runs the stage; a command may do something else instead (report --as-of-run). */
    void run(StageContext ctx) {
        stage.accept(ctx);
    }

    /**
     * The parts of the warehouse this invocation writes, locked for its duration: the stage by
     * default; per method for pruning, so that prune runs of different methods may overlap.
     */
    Collection<String> lockScopes(ExperimentConfig config) {
        return List.of(stageName);
    }

    /** Whether this invocation writes the warehouse (and so is recorded as a run). */
    boolean records() {
        return true;
    }

    /** The validated config: --config (read through {@code storage}, with the session's Hadoop settings), or the embedded demo. */
    ExperimentConfig config(Storage storage) {
        return options.config == null ? ConfigLoader.embeddedDemo() : ConfigLoader.load(new HadoopFileSource(storage), options.config);
    }

    /** The Spark settings this command's session will have; building them starts nothing. */
    SparkConf sparkConf() {
        SparkSessions.checkMaster(options.sparkConf.get("spark.master"), "--conf spark.master");
        return SparkSessions.conf("sparse-transfer " + stageName, options.master, options.sparkConf);
    }

    @Override
    public Integer call() throws Exception {
        SparkConf sparkConf = sparkConf();
        // The file systems of --config and --out, reached (and locked) with the Hadoop settings the session will have, before Spark starts.
        Storage storage = Storage.forSparkConf(sparkConf);
        ExperimentConfig config = config(storage);
        Warehouse warehouse = Warehouse.parse(options.out);
        Collection<String> scopes = lockScopes(config); // names given on the command line are checked here, before Spark
        StageContext.log(stageName, "config " + (options.config == null ? "embedded demo" : options.config)
                + " (" + config.name + "), warehouse " + warehouse.root());
        WarehouseLock lock = WarehouseLock.acquire(storage, warehouse, stageName, scopes);
        boolean succeeded = false;
        try {
            SparkSession spark = SparkSessions.create(sparkConf);
            try {
                Instant started = Instant.now();
                RunTable runs = new RunTable(spark, warehouse);
                runs.checkNoCommitsLost();
                Map<String, Long> before = runs.versions();
                try {
                    run(new StageContext(spark, config, warehouse));
                } catch (Exception e) { // Spark's and Delta's exceptions include checked ones
                    throw keptOnFailure(e, runs, before);
                }
                if (records()) {
                    String runId = RUN_TIME.format(started) + "-" + UUID.randomUUID().toString().substring(0, 8);
                    runs.record(runId, stageName, config.name, started, ConfigLoader.yamlMapper().writeValueAsString(config),
                            before, runs.versions());
                    StageContext.log(stageName, "recorded as run " + runId + " (report --as-of-run " + runId + " rebuilds its report)");
                }
                succeeded = true;
            } finally {
                spark.stop();
            }
        } finally {
            if (succeeded) {
                lock.close();
            } else {
                lock.abandon();
            }
        }
        return 0;
    }

    /**
     * {@code failure}, saying which tables kept commits made before it: a stage stores each
     * finished piece of work at once, and a rerun continues from there.
     */
    private static Exception keptOnFailure(Exception failure, RunTable runs, Map<String, Long> before) {
        String kept;
        try {
            kept = RunTable.describeChanges(before, runs.versions());
        } catch (RuntimeException unreadable) {
            failure.addSuppressed(unreadable);
            return failure;
        }
        if (kept.isEmpty()) {
            return failure;
        }
        String note = "what was stored before the failure is kept (" + kept + "), and a rerun continues from it";
        InvalidInputException bad = StorageFaults.asBadInput(failure);
        if (bad != null) {
            return new InvalidInputException(bad.getMessage() + "; " + note, failure);
        }
        System.err.println("note: " + note);
        return failure;
    }
}
