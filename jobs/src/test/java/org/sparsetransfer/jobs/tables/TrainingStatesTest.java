package org.sparsetransfer.jobs.tables;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sparsetransfer.core.InvalidInputException;
import org.sparsetransfer.core.model.Tensor;
import org.sparsetransfer.core.model.Weights;
import org.sparsetransfer.core.train.LocalSgd;
import org.sparsetransfer.core.train.TrainingLoop;
import org.sparsetransfer.core.train.TrainingSchedule;
import org.sparsetransfer.core.train.TrainingState;
import org.sparsetransfer.jobs.storage.Storage;

/** Training states in a warehouse, through Hadoop's FileSystem: one file per training, replaced whole, cleared by scope. */
class TrainingStatesTest {
    @TempDir
    Path out;

    @Test
    void aSaveReplacesTheLastStateWholeAndAClearedScopeLeavesNothing() throws Exception {
        TrainingStates states = new TrainingStates(new Storage(new Configuration()), new Warehouse(out));
        LocalSgd.StatePolicy policy = states.policy("ckpt-1", 5);
        TrainingSchedule schedule = TrainingSchedule.fixedMask(20, TrainingSchedule.LearningRate.linear(0.1f, 0f));
        Weights start = weights(1f, -0f, 3f);
        LocalSgd.Saving saving = policy.saving(schedule, 1, 1, new TrainingLoop.Settings(8, 0.9f, 0f, 1L), null, start, null, null, -1);
        TrainingState.Store store = saving.store();
        assertTrue(store.latest(saving.key()).isEmpty());

        store.save(new TrainingState(saving.key(), 5, 20, start, weights(0.5f, 0f, 0f), null, null, 1.0));
        store.save(new TrainingState(saving.key(), 10, 20, weights(2f, -0f, 4f), weights(0.25f, -0f, 1f), null, null, 2.0));
        Path dir = out.resolve("training_states/ckpt-1/" + saving.key());
        try (var files = Files.list(dir)) {
            assertEquals(List.of("step-000000000010.state"), files.map(f -> f.getFileName().toString()).toList(),
                    "the older state and the temporary file are gone");
        }
        TrainingState latest = store.latest(saving.key()).orElseThrow();
        assertEquals(10, latest.step());
        assertEquals(weights(2f, -0f, 4f), latest.weights(), "dense weights bit for bit");
        assertEquals(weights(0.25f, -0f, 1f), latest.momentum());

        // A second attempt of the same training that is behind keeps the newer state: only older ones are deleted.
        store.save(new TrainingState(saving.key(), 5, 20, start, null, null, null, 3.0));
        assertEquals(10, store.latest(saving.key()).orElseThrow().step());
        Files.delete(dir.resolve("step-000000000005.state"));
        // A kill while saving leaves a temporary file beside the last state: it is not read.
        Files.writeString(dir.resolve("_saving-0000"), "half a state");
        assertEquals(10, store.latest(saving.key()).orElseThrow().step());
        // A damaged state is one error that names its file and the fix.
        Files.write(dir.resolve("step-000000000015.state"), new byte[] {1, 2, 3});
        InvalidInputException damaged = assertThrows(InvalidInputException.class, () -> store.latest(saving.key()));
        assertTrue(damaged.getMessage().contains("step-000000000015.state") && damaged.getMessage().contains("delete it"),
                damaged.getMessage());

        states.policy("ckpt-2", 5).saving(schedule, 1, 1, new TrainingLoop.Settings(8, 0.9f, 0f, 1L), null, start, null, null, -1)
                .store().save(new TrainingState("k2", 5, 20, start, null, null, null, 0));
        assertEquals(List.of("ckpt-1", "ckpt-2"), states.scopes());
        // A stage's start sweeps the scopes whose outputs are stored (here ckpt-1), in one listing.
        List<List<String>> asked = new java.util.ArrayList<>();
        states.clearFinished(scopes -> {
            asked.add(scopes);
            return scopes.stream().filter("ckpt-1"::equals).toList();
        });
        assertEquals(List.of(List.of("ckpt-1", "ckpt-2")), asked);
        assertEquals(List.of("ckpt-2"), states.scopes());
        states.clear("ckpt-2");
        assertFalse(Files.exists(out.resolve("training_states")), "no empty directory is left behind");
    }

    private static Weights weights(float... values) {
        return new Weights(Map.of("w", new Tensor(new long[] {values.length}, values)));
    }
}
