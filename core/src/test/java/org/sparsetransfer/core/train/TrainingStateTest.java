package org.sparsetransfer.core.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;
import org.sparsetransfer.core.InvalidInputException;
import org.sparsetransfer.core.Synthetic;
import org.sparsetransfer.core.checkpoint.CheckpointCodec;
import org.sparsetransfer.core.config.ExperimentConfig;
import org.sparsetransfer.core.data.ImageSet;
import org.sparsetransfer.core.experiment.UpstreamExperiment;
import org.sparsetransfer.core.model.Tensor;
import org.sparsetransfer.core.model.Weights;
import org.sparsetransfer.core.prune.MagnitudePruner;
import org.sparsetransfer.core.prune.Mask;
import org.sparsetransfer.core.task.TaskRegistry;

/**
 * Training states: a training killed in the middle of an epoch resumes from its last saved state
 * to exactly the result of a run that was never killed (one worker and two), saving states
 * changes no result, and a state reads back bit for bit or fails with one clear error.
 */
class TrainingStateTest {
    private static final int EVERY = 7;

    @ParameterizedTest(name = "{0} worker(s)")
    @ValueSource(ints = {1, 2})
    void aTrainingKilledMidEpochResumesToTheResultOfOneNeverKilled(int workers) throws Exception {
        ExperimentConfig config = new ExperimentConfig();
        ImageSet train = Synthetic.squares("up", 300, 9, 1, 0);
        UpstreamExperiment experiment = new UpstreamExperiment(config, new TaskRegistry.Splits(train,
                Synthetic.squares("up", 100, 9, 2, 0), Synthetic.squares("up", 100, 9, 3, 0)), Device.cpu());
        // 10 steps per epoch at batch 32 (one worker); pruning before steps 0 and 17, weights kept after step 25.
        TrainingSchedule schedule = DataParallelTest.pruningAt(TrainingSchedule.fixedMask(40,
                TrainingSchedule.LearningRate.linear(0.05f, 0f)), Map.of(0, 0.3, 17, 0.6));
        MagnitudePruner pruner = new MagnitudePruner(MagnitudePruner.Scope.GLOBAL);
        TrainingLoop.Settings settings = new TrainingLoop.Settings(32, 0.9f, 5e-4f, 11L);
        Weights start = experiment.initialWeights();
        Mask denseMask = experiment.denseMask(start);
        int keepAt = 25;
        List<ImageSet> shards = new ArrayList<>();
        for (int w = 0; w < workers; w++) {
            shards.add(train.subset("s" + w, DataParallelPlan.shard(train.size(), workers, w)));
        }
        LocalSgd.Result never = experiment.inProcess(shards, 5, TrainingLoop.Progress.SILENT).train(schedule, pruner, settings, start,
                denseMask, null, keepAt);

        MemoryStateStore store = new MemoryStateStore();
        LocalSgd.Saving saving = new LocalSgd.StatePolicy(store, "scope", EVERY).saving(schedule, workers, 5, settings, pruner, start,
                denseMask, null, keepAt);
        int[] rounds = {0};
        // One worker: rounds end at 7, 14, 17 (pruning), 21, 25 (kept), ...; two: every 5 steps and at 17 and 25.
        int killAfter = workers == 1 ? 4 : 5;
        LocalSgd.Workers killedLater = input -> {
            if (rounds[0]++ == killAfter) {
                throw new MemoryStateStore.Killed();
            }
            return roundOf(experiment, shards, settings, input);
        };
        assertThrows(MemoryStateStore.Killed.class, () -> LocalSgd.train(schedule, workers, 5, 32, pruner, start, denseMask, keepAt, saving,
                killedLater, TrainingLoop.Progress.SILENT));
        int killedAt = store.latest(saving.key()).orElseThrow().step();
        assertEquals(workers == 1 ? 21 : 22, killedAt, "the last state saved before the kill: " + store.steps);
        assertTrue(killedAt % 10 != 0, "in the middle of an epoch");

        List<String> log = new ArrayList<>();
        LocalSgd.Result resumed = LocalSgd.train(schedule, workers, 5, 32, pruner, start, denseMask, keepAt, saving,
                input -> roundOf(experiment, shards, settings, input), log::add);
        assertTrue(log.contains("resuming from the training state saved at step " + killedAt + "/40"), log.toString());
        assertEquals(never.mask(), resumed.mask());
        assertArrayEquals(CheckpointCodec.encode(never.weights(), never.mask()), CheckpointCodec.encode(resumed.weights(), resumed.mask()),
                "bitwise the weights of the run never killed");
        // As checkpoints store them: kept values exact, pruned elements +0.0 (a resumed run's pruned zeros are all +0.0).
        assertArrayEquals(CheckpointCodec.encode(never.kept(), never.mask()), CheckpointCodec.encode(resumed.kept(), resumed.mask()),
                "and its weights after step " + keepAt);
        assertEquals(0.6, resumed.mask().sparsity(), 0.01);
        assertEquals(40, store.latest(saving.key()).orElseThrow().step(), "the end is saved too");

        // A rerun after the end (killed before its checkpoint was stored) trains nothing.
        LocalSgd.Result again = LocalSgd.train(schedule, workers, 5, 32, pruner, start, denseMask, keepAt, saving, input -> {
            throw new AssertionError("no round runs again");
        }, TrainingLoop.Progress.SILENT);
        assertArrayEquals(CheckpointCodec.encode(resumed.weights(), resumed.mask()), CheckpointCodec.encode(again.weights(), again.mask()));
    }

    @Test
    void savingStatesChangesNoResultOfOneWorker() throws Exception {
        ExperimentConfig config = new ExperimentConfig();
        ImageSet train = Synthetic.squares("up", 200, 9, 4, 0);
        UpstreamExperiment experiment = new UpstreamExperiment(config, new TaskRegistry.Splits(train,
                Synthetic.squares("up", 50, 9, 5, 0), Synthetic.squares("up", 50, 9, 6, 0)), Device.cpu());
        TrainingSchedule schedule = TrainingSchedule.fixedMask(23, TrainingSchedule.LearningRate.linear(0.05f, 0f));
        TrainingLoop.Settings settings = new TrainingLoop.Settings(32, 0.9f, 5e-4f, 3L);
        Weights start = experiment.initialWeights();
        LocalSgd.Result plain = experiment.inProcess(TrainingLoop.Progress.SILENT).train(schedule, null, settings, start, null, null, -1);
        MemoryStateStore store = new MemoryStateStore();
        LocalSgd.Result saved = experiment.inProcess(List.of(train), 1, new LocalSgd.StatePolicy(store, "s", 4),
                TrainingLoop.Progress.SILENT).train(schedule, null, settings, start, null, null, -1);
        assertEquals(List.of(4, 8, 12, 16, 20, 23), store.steps, "a state every 4 steps (a cut of the rounds) and at the end");
        assertEquals(plain.weights(), saved.weights(), "bitwise, dense weights included");
        experiment.inProcess(List.of(train), 1, new LocalSgd.StatePolicy(store, "s", 24), TrainingLoop.Progress.SILENT).train(schedule,
                null, settings, start, null, null, -1);
        assertEquals(6, store.steps.size(), "a training shorter than the interval saves nothing, not even its end");
    }

    /**
     * The dense control's trunk: a snapshot at step k of a constant-rate run is the run of k steps
     * (so a branch leaving it starts where an independent run would), and a trunk killed and
     * resumed hands over exactly the snapshots after its saved state again, with the same weights.
     */
    @Test
    void snapshotsAreTheShorterRunsAndAResumedTrainingHandsOverOnlyTheLaterOnesAgain() throws Exception {
        ExperimentConfig config = new ExperimentConfig();
        ImageSet train = Synthetic.squares("up", 200, 9, 7, 0);
        UpstreamExperiment experiment = new UpstreamExperiment(config, new TaskRegistry.Splits(train,
                Synthetic.squares("up", 50, 9, 8, 0), Synthetic.squares("up", 50, 9, 9, 0)), Device.cpu());
        TrainingLoop.Settings settings = new TrainingLoop.Settings(32, 0.9f, 5e-4f, 5L);
        Weights start = experiment.initialWeights();
        TrainingSchedule.LearningRate constant = (step, total) -> 0.05f;
        int[] at = {3, 9, 16};
        Map<Integer, Weights> handed = new java.util.TreeMap<>();
        LocalSgd.Workers rounds = input -> roundOf(experiment, List.of(train), settings, input);
        LocalSgd.train(TrainingSchedule.fixedMask(20, constant), 1, 5, 32, null, start, null, -1,
                new LocalSgd.Snapshots(at, handed::put), LocalSgd.Saving.NONE, rounds, TrainingLoop.Progress.SILENT);
        assertEquals(List.of(3, 9, 16), List.copyOf(handed.keySet()));
        for (int k : at) {
            LocalSgd.Result shorter = experiment.inProcess(TrainingLoop.Progress.SILENT).train(TrainingSchedule.fixedMask(k, constant), null,
                    settings, start, null, null, -1);
            assertEquals(shorter.weights(), handed.get(k), "the snapshot at " + k + " is the " + k + "-step run, bitwise");
        }

        MemoryStateStore store = new MemoryStateStore();
        TrainingSchedule trunk = TrainingSchedule.fixedMask(20, constant);
        LocalSgd.Saving saving = new LocalSgd.StatePolicy(store, "trunk", 5).saving(trunk, 1, 5, settings, null, start, null, null, -1);
        Map<Integer, Weights> firstTry = new java.util.TreeMap<>();
        LocalSgd.Snapshots.Sink killedAtTheSecond = (step, weights) -> {
            if (step == 9) {
                throw new MemoryStateStore.Killed(); // a kill inside the branch that leaves at step 9
            }
            firstTry.put(step, weights);
        };
        assertThrows(MemoryStateStore.Killed.class, () -> LocalSgd.train(trunk, 1, 5, 32, null, start, null, -1,
                new LocalSgd.Snapshots(at, killedAtTheSecond), saving, rounds, TrainingLoop.Progress.SILENT));
        assertEquals(5, store.latest(saving.key()).orElseThrow().step(), "the state before the branch point, none at it");
        Map<Integer, Weights> secondTry = new java.util.TreeMap<>();
        LocalSgd.train(trunk, 1, 5, 32, null, start, null, -1, new LocalSgd.Snapshots(at, secondTry::put), saving, rounds,
                TrainingLoop.Progress.SILENT);
        assertEquals(List.of(3), List.copyOf(firstTry.keySet()));
        assertEquals(List.of(9, 16), List.copyOf(secondTry.keySet()), "the branch killed runs again; the one before does not");
        assertEquals(handed.get(9), secondTry.get(9));
        assertEquals(handed.get(16), secondTry.get(16));
    }

    @Test
    void aStateReadsBackBitForBitAndADamagedOneIsOneClearError() {
        Weights weights = weights(-0f, 1.5f, 0f, -2f);
        Mask mask = new Mask(Map.of("w", new boolean[] {true, true, false, true}));
        Weights momentum = weights(-0f, Float.MIN_VALUE, 3f, Float.NaN);
        Weights kept = weights(4f, 5f, 6f, 7f); // dense: the mask shrank after the kept step
        TrainingState state = new TrainingState("k", 12, 40, weights, momentum, mask, kept, 3.5);
        TrainingState back = TrainingState.decode(state.encode(), "test");
        assertEquals(12, back.step());
        assertEquals(40, back.totalSteps());
        assertEquals(mask, back.mask());
        assertEquals(weights, back.weights(), "kept values exact (the pruned one was +0.0 already)");
        assertEquals(momentum, back.momentum(), "momentum bit for bit, -0.0 and NaN included");
        assertEquals(kept, back.kept());
        assertEquals(3.5, back.wallSeconds());

        byte[] damaged = state.encode();
        damaged[damaged.length - 3] ^= 1;
        InvalidInputException checksum = assertThrows(InvalidInputException.class, () -> TrainingState.decode(damaged, "state-file"));
        assertTrue(checksum.getMessage().contains("state state-file failed its checksum"), checksum.getMessage());
        byte[] truncated = java.util.Arrays.copyOf(state.encode(), 30);
        InvalidInputException cut = assertThrows(InvalidInputException.class, () -> TrainingState.decode(truncated, "state-file"));
        assertTrue(cut.getMessage().contains("Training state state-file is truncated") && cut.getMessage().contains("delete it"),
                cut.getMessage());
        assertThrows(InvalidInputException.class, () -> TrainingState.decode(new byte[] {1, 2, 3, 4, 5, 6, 7, 8}, "x"));
    }

    @Test
    void theKeyNamesOneTraining() {
        TrainingSchedule schedule = TrainingSchedule.fixedMask(30, TrainingSchedule.LearningRate.linear(0.1f, 0f));
        TrainingLoop.Settings settings = new TrainingLoop.Settings(32, 0.9f, 5e-4f, 1L);
        Weights start = weights(1f, 2f, 3f, 4f);
        String key = TrainingState.key("a", schedule, 1, 20, settings, null, start, null, null, -1);
        assertEquals(key, TrainingState.key("a", schedule, 1, 99, settings, null, weights(1f, 2f, 3f, 4f), null, null, -1),
                "the same training (one worker has no local steps)");
        List<String> others = List.of(
                TrainingState.key("b", schedule, 1, 20, settings, null, start, null, null, -1),
                TrainingState.key("a", TrainingSchedule.fixedMask(30, TrainingSchedule.LearningRate.linear(0.2f, 0f)), 1, 20, settings,
                        null, start, null, null, -1),
                TrainingState.key("a", schedule, 2, 20, settings, null, start, null, null, -1),
                TrainingState.key("a", schedule, 1, 20, new TrainingLoop.Settings(32, 0.9f, 5e-4f, 2L), null, start, null, null, -1),
                TrainingState.key("a", schedule, 1, 20, settings, new MagnitudePruner(MagnitudePruner.Scope.LAYERWISE), start, null,
                        null, -1),
                TrainingState.key("a", schedule, 1, 20, settings, null, weights(1f, 2f, 3f, 5f), null, null, -1),
                TrainingState.key("a", schedule, 1, 20, settings, null, start, new Mask(Map.of("w", new boolean[4])), null, -1),
                TrainingState.key("a", schedule, 1, 20, settings, null, start, null, start, -1),
                TrainingState.key("a", schedule, 1, 20, settings, null, start, null, null, 5));
        others.forEach(other -> assertNotEquals(key, other));
        assertEquals(others.size(), others.stream().distinct().count());
    }

    @Test
    void aStateOfAnotherLengthIsRefused() {
        MemoryStateStore store = new MemoryStateStore();
        TrainingSchedule schedule = TrainingSchedule.fixedMask(30, TrainingSchedule.LearningRate.linear(0.1f, 0f));
        Weights start = weights(1f, 2f, 3f, 4f);
        store.save(new TrainingState("k", 10, 50, start, start, null, null, 0));
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> LocalSgd.train(schedule, 1, 5, 32, null, start, null,
                -1, new LocalSgd.Saving(store, "k", 10), input -> {
                    throw new AssertionError("nothing trains");
                }, TrainingLoop.Progress.SILENT));
        assertTrue(e.getMessage().contains("at step 10 of 50, not of this training's 30 steps; delete the directory k"), e.getMessage());
    }

    private static LocalSgd.RoundSum roundOf(UpstreamExperiment experiment, List<ImageSet> shards, TrainingLoop.Settings settings,
            LocalSgd.RoundInput input) throws Exception {
        LocalSgd.RoundSum sum = new LocalSgd.RoundSum();
        for (int w = 0; w < shards.size(); w++) {
            sum.add(experiment.trainRound(input, settings, w, shards.size(), shards.get(w), null, TrainingLoop.Progress.SILENT));
        }
        return sum;
    }

    private static Weights weights(float... values) {
        return new Weights(Map.of("w", new Tensor(new long[] {values.length}, values)));
    }
}
