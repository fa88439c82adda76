package org.sparsetransfer.jobs.spark;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.serializers.JavaSerializer;
import java.util.List;
import org.sparsetransfer.core.data.ImageSet;
import org.sparsetransfer.core.experiment.TrainedModel;
import org.sparsetransfer.core.experiment.TransferExperiment;
import org.sparsetransfer.core.task.TaskRegistry;
import org.sparsetransfer.jobs.stages.CheckpointRecord;
import org.sparsetransfer.jobs.stages.PruneStage;
import org.sparsetransfer.jobs.stages.TransferStage;
import org.sparsetransfer.jobs.stages.UpstreamStage;

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
            UpstreamStage.Job.class,
            PruneStage.Job.class,
            TransferStage.Job.class,
            TransferStage.Inputs.class,
            TransferStage.RunResult.class);

    @Override
    public void registerClasses(Kryo kryo) {
        for (Class<?> type : JAVA_SERIALIZED) {
            kryo.register(type, new JavaSerializer());
        }
        kryo.register(Object[].class);
        kryo.register(byte[].class);
        kryo.register(java.util.ArrayList.class);
    }
}
