package org.sparsetransfer.jobs.stages;

import java.time.LocalTime;
import java.time.format.DateTimeFormatter;
import java.util.Map;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.sparsetransfer.core.config.ExperimentConfig;
import org.sparsetransfer.core.config.ExperimentIds;
import org.sparsetransfer.jobs.tables.CheckpointTable;
import org.sparsetransfer.jobs.tables.DatasetTable;
import org.sparsetransfer.jobs.tables.ResultTable;
import org.sparsetransfer.jobs.tables.Warehouse;

/**
 * What every stage works with: the session, the validated config, and the warehouse's tables,
 * read at their latest versions or, for a report of an earlier run, at {@code asOf}.
 */
public record StageContext(SparkSession spark, ExperimentConfig config, Warehouse warehouse, Map<String, Long> asOf) {

    public StageContext(SparkSession spark, ExperimentConfig config, Warehouse warehouse) {
        this(spark, config, warehouse, Map.of());
    }

    public JavaSparkContext jsc() {
        return JavaSparkContext.fromSparkContext(spark.sparkContext());
    }

    /** Dataset files as {@code core} reads them: through Hadoop, with the session's configuration. */
    public org.sparsetransfer.core.io.FileSource files() {
        return new org.sparsetransfer.jobs.storage.HadoopFileSource(org.sparsetransfer.jobs.storage.Storage.of(spark));
    }

    public ExperimentIds ids() {
        return new ExperimentIds(config);
    }

    public DatasetTable datasets() {
        return new DatasetTable(spark, warehouse);
    }

    public CheckpointTable checkpoints() {
        return new CheckpointTable(spark, warehouse, asOf.get("checkpoints"));
    }

    public ResultTable results() {
        return new ResultTable(spark, warehouse, asOf.get("transfer_results"));
    }

    /** The saved states of long trainings in this warehouse. */
    public org.sparsetransfer.jobs.tables.TrainingStates trainingStates() {
        return new org.sparsetransfer.jobs.tables.TrainingStates(org.sparsetransfer.jobs.storage.Storage.of(spark), warehouse);
    }

    /** How the trainings that make checkpoint {@code scope} save their states (training_states.every_steps). */
    public org.sparsetransfer.core.train.LocalSgd.StatePolicy statePolicy(String scope) {
        return trainingStates().policy(scope, config.trainingStates.everySteps);
    }

    /** Names the Spark jobs this thread starts next (shown in the Spark UI and event logs). */
    public void describe(String stage, String what) {
        spark.sparkContext().setJobDescription(stage + ": " + what);
    }

    /** A progress line on the console, stamped with the time and the stage. */
    public static void log(String stage, String message) {
        System.out.println(LocalTime.now().format(DateTimeFormatter.ofPattern("HH:mm:ss")) + " [" + stage + "] " + message);
        System.out.flush();
    }
}
