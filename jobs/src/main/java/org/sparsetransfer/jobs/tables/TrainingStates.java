package org.sparsetransfer.jobs.tables;

import java.io.IOException;
import java.io.OutputStream;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.sparsetransfer.core.train.LocalSgd;
import org.sparsetransfer.core.train.TrainingState;
import org.sparsetransfer.jobs.storage.Location;
import org.sparsetransfer.jobs.storage.Storage;

/**
 * The saved states of long trainings, in the warehouse: {@code training_states/<scope>/<key>/},
 * one file per training ({@code step-<step>.state}), where the scope is what the trainings make
 * (a checkpoint id, or a transfer run's scope) and the key identifies one training
 * ({@link TrainingState#key}). A state is written to a temporary name and moved into place, so a
 * kill while saving leaves the previous state; older states are deleted after the move. The
 * stage deletes a scope once its output is stored, and at its start sweeps the scopes of outputs
 * already stored. These are files, not a Delta table: a state is written and read whole (by the
 * driver for upstream trainings, by the executor for transfer runs) and replaced as the training
 * goes on, so there is nothing to query or version.
 */
public final class TrainingStates {
    private static final Pattern STATE = Pattern.compile("step-(\\d{12})\\.state");

    private final Storage storage;
    private final Location root;

    public TrainingStates(Storage storage, Warehouse warehouse) {
        this.storage = storage;
        this.root = warehouse.trainingStates();
    }

    /** How the trainings that make {@code scope} save their states: every {@code everySteps} steps (0: never). */
    public LocalSgd.StatePolicy policy(String scope, int everySteps) {
        return new LocalSgd.StatePolicy(new ScopeStore(root.resolve(scope)), scope, everySteps);
    }

    /** Deletes the states of {@code scope} (its checkpoint is stored: nothing will resume from them). */
    public void clear(String scope) {
        storage.delete(root.resolve(scope));
        storage.deleteIfEmpty(root);
    }

    /** The scopes that hold states (trainings that have not finished storing, or whose stage was killed before it cleared them). */
    public List<String> scopes() {
        return storage.list(root);
    }

    /**
     * Deletes the states of every scope {@code finished} names among those that hold states (one
     * listing): what a kill between storing an output and clearing its states left behind.
     */
    public void clearFinished(java.util.function.Function<List<String>, java.util.Collection<String>> finished) {
        List<String> scopes = scopes();
        if (!scopes.isEmpty()) {
            finished.apply(scopes).forEach(this::clear);
        }
    }

    private final class ScopeStore implements TrainingState.Store {
        private final Location dir;

        ScopeStore(Location dir) {
            this.dir = dir;
        }

        @Override
        public Optional<TrainingState> latest(String key) {
            Location training = dir.resolve(key);
            String newest = null;
            for (String name : storage.list(training)) {
                if (STATE.matcher(name).matches() && (newest == null || name.compareTo(newest) > 0)) {
                    newest = name;
                }
            }
            if (newest == null) {
                return Optional.empty();
            }
            Location file = training.resolve(newest);
            TrainingState state = TrainingState.decode(storage.readBytes(file), file.toString());
            if (!state.key().equals(key)) {
                throw new org.sparsetransfer.core.InvalidInputException("Training state " + file + " belongs to training " + state.key()
                        + ", not " + key + "; delete it to restart that training from its beginning");
            }
            return Optional.of(state);
        }

        @Override
        public void save(TrainingState state) throws IOException {
            Location training = dir.resolve(state.key());
            Location temporary = training.resolve("_saving-" + UUID.randomUUID());
            String name = String.format("step-%012d.state", state.step());
            try (OutputStream out = storage.create(temporary)) {
                out.write(state.encode());
            }
            storage.replace(temporary, training.resolve(name));
            for (String other : storage.list(training)) {
                Matcher m = STATE.matcher(other);
                // Only older states: a second attempt of the same training (a speculative task) keeps its newer one.
                if (m.matches() && Long.parseLong(m.group(1)) < state.step()) {
                    storage.delete(training.resolve(other));
                }
            }
        }
    }
}
