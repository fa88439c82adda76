package org.sparsetransfer.jobs.spark;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.serializers.JavaSerializer;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.sparsetransfer.core.config.ExperimentConfig;
import org.sparsetransfer.core.data.ImageSet;
import org.sparsetransfer.core.model.Weights;
import org.sparsetransfer.core.prune.Mask;
import org.sparsetransfer.core.experiment.TrainedModel;
import org.sparsetransfer.core.experiment.TransferExperiment;
import org.sparsetransfer.core.task.TaskRegistry;
import org.sparsetransfer.jobs.stages.CheckpointRecord;
import org.sparsetransfer.jobs.stages.SparkPruningRun;
import org.sparsetransfer.jobs.stages.TransferStage;
import org.sparsetransfer.jobs.stages.UpstreamStage;
import org.sparsetransfer.jobs.tables.CheckpointTable;

/**
 * Registers every class the jobs ship through Spark (broadcasts, task inputs and results), so
 * tests can run with {@code spark.kryo.registrationRequired=true}. The project's types are
 * Java records (immutable, with final fields Kryo 4 cannot set), so they go through Java
 * serialization inside Kryo; their payloads are primitive arrays, which that handles well.
 */
public final class KryoRegistrator implements org.apache.spark.serializer.KryoRegistrator {
    private static final List<Class<?>> JAVA_SERIALIZED = List.of(
            ImageSet.class,
            TaskRegistry.Splits.class,
            TrainedModel.class,
            TransferExperiment.Outcome.class,
            CheckpointRecord.class,
            ExperimentConfig.class,
            Weights.class,
            Mask.class,
            UpstreamStage.Job.class,
            UpstreamStage.PretrainedJob.class,
            SparkPruningRun.ModelJob.class,
            org.sparsetransfer.jobs.stages.UpstreamData.TrainingRows.class,
            org.sparsetransfer.core.model.WeightSum.class,
            org.sparsetransfer.core.train.LocalSgd.RoundInput.class,
            org.sparsetransfer.core.train.LocalSgd.RoundSum.class,
            org.sparsetransfer.core.train.LocalSgd.RoundState.class,
            org.sparsetransfer.jobs.stages.SplitEvaluation.Model.class,
            org.sparsetransfer.jobs.stages.SplitEvaluation.Part.class,
            org.sparsetransfer.jobs.stages.SplitEvaluation.Sum.class,
            TransferStage.Source.class,
            TransferStage.Run.class,
            TransferStage.RunResult.class,
            TransferStage.Shard.class,
            CheckpointTable.Location.class,
            org.sparsetransfer.core.vision.IngestPlan.Unit.class);

    /**
     * Spark and Delta internals that travel in task results (e.g. Delta's AddFile after a write),
     * listed by name because several are not accessible from Java code.
     */
    static final String LIBRARY_CLASSES = "/sparse-transfer/kryo-classes.txt";

    @Override
    public void registerClasses(Kryo kryo) {
        for (Class<?> type : JAVA_SERIALIZED) {
            kryo.register(type, new JavaSerializer());
        }
        kryo.register(Object[].class);
        kryo.register(byte[].class);
        kryo.register(java.util.ArrayList.class);
        for (String name : libraryClassNames()) {
            try {
                kryo.register(Class.forName(name, false, KryoRegistrator.class.getClassLoader()));
            } catch (ClassNotFoundException e) {
                throw new IllegalStateException("Kryo registration list names a missing class " + name
                        + " (Spark or Delta version changed?)", e);
            }
        }
    }

    static List<String> libraryClassNames() {
        try (InputStream in = KryoRegistrator.class.getResourceAsStream(LIBRARY_CLASSES)) {
            if (in == null) {
                throw new IllegalStateException(LIBRARY_CLASSES + " is missing from the build");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().map(String::strip)
                    .filter(line -> !line.isEmpty() && !line.startsWith("#")).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
