package org.sparsetransfer.core.train;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Training states kept as their encoded bytes, as a warehouse keeps them; optionally "killed"
 * (throwing {@link Killed}) right after its n-th save, as a run killed then would be.
 */
public final class MemoryStateStore implements TrainingState.Store {
    /** What a save throws to stand for the process dying right after it. */
    public static final class Killed extends RuntimeException {
        private static final long serialVersionUID = 1L;

        public Killed() {
            super("killed");
        }
    }

    private final Map<String, byte[]> saved = new HashMap<>();
    /** The steps saved, in order. */
    public final List<Integer> steps = new ArrayList<>();
    private int killAfterSaves = -1;
    private TrainingState last;

    /** Makes the {@code saves}-th save from now (1: the next) throw {@link Killed} once it has stored its state. */
    public MemoryStateStore killAfter(int saves) {
        killAfterSaves = steps.size() + saves;
        return this;
    }

    /** The state saved last, under any key. */
    public TrainingState last() {
        return last;
    }

    @Override
    public Optional<TrainingState> latest(String key) {
        byte[] bytes = saved.get(key);
        return bytes == null ? Optional.empty() : Optional.of(TrainingState.decode(bytes, key));
    }

    @Override
    public void save(TrainingState state) {
        saved.put(state.key(), state.encode());
        last = state;
        steps.add(state.step());
        if (steps.size() == killAfterSaves) {
            killAfterSaves = -1;
            throw new Killed();
        }
    }
}
