package org.sparsetransfer.jobs.tables;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.TreeSet;
import java.util.UUID;
import org.sparsetransfer.core.InvalidInputException;
import org.sparsetransfer.core.IoErrors;

/**
 * One writer per part of a warehouse. A run locks the parts it writes (its scopes: a stage, or
 * {@code prune-<method>} for one pruning method), so that a second run of the same part fails fast,
 * naming the run that holds it, instead of racing it; runs of different parts may overlap (per-method
 * prune tasks from Airflow, for example), and their Delta writes retry on conflicts
 * ({@link DeltaTables#merge}). The locks are OS file locks on {@code OUT/.locks/<scope>.lock}, so
 * they are released when the holder exits however it exits (a killed run leaves no stale lock).
 * A held lock file names its holder; a free one is empty. They cover runs on one machine or a
 * shared POSIX file system; object stores are not covered.
 *
 * <p>A command that fails calls {@link #abandon}: the lock files and directories it created are
 * removed again, so a failed command on a fresh {@code --out} leaves nothing behind.
 */
public final class WarehouseLock implements AutoCloseable {
    static final String LOCK_DIR = ".locks";
    /** Attempts to take a lock file that another run removes at the same moment (see {@link #abandon}). */
    private static final int ATTEMPTS = 3;

    /** One held scope: its file, the channel holding the lock, and whether this lock created the file. */
    private record Held(Path file, FileChannel channel, boolean created) {}

    private final List<Held> held;
    /** Directories this lock created (the warehouse root, {@code .locks}), innermost first. */
    private final List<Path> createdDirs;

    private WarehouseLock(List<Held> held, List<Path> createdDirs) {
        this.held = held;
        this.createdDirs = createdDirs;
    }

    /** Locks the single scope {@code command}. */
    public static WarehouseLock acquire(Warehouse warehouse, String command) {
        return acquire(warehouse, command, List.of(command));
    }

    /** Locks every scope in {@code scopes} for {@code command}, or none of them. */
    public static WarehouseLock acquire(Warehouse warehouse, String command, Collection<String> scopes) {
        Path dir = warehouse.root().resolve(LOCK_DIR);
        List<Path> createdDirs = new ArrayList<>();
        List<Held> held = new ArrayList<>();
        try {
            for (Path d : List.of(warehouse.root(), dir)) {
                if (!Files.isDirectory(d)) {
                    Files.createDirectories(d);
                    createdDirs.add(0, d);
                }
            }
            String owner = "command " + command + ", pid " + ProcessHandle.current().pid() + " on "
                    + InetAddress.getLocalHost().getHostName() + ", since " + Instant.now();
            for (String scope : new TreeSet<>(scopes)) {
                held.add(lock(warehouse, dir.resolve(scope + ".lock"), scope, owner));
            }
            return new WarehouseLock(held, createdDirs);
        } catch (IOException e) {
            new WarehouseLock(held, createdDirs).abandon();
            throw new InvalidInputException("Cannot use " + warehouse.root() + " as the warehouse (--out): " + IoErrors.describe(e)
                    + "; choose a directory you can write", e);
        } catch (RuntimeException e) {
            new WarehouseLock(held, createdDirs).abandon();
            throw e;
        }
    }

    /**
     * Locks one scope's file and writes the owner into it. The owner line carries a token of this
     * attempt: reading it back through the path proves the locked file is still the one the path
     * names, not one that a failing run removed between our open and our lock.
     */
    private static Held lock(Warehouse warehouse, Path file, String scope, String owner) throws IOException {
        for (int attempt = 1; ; attempt++) {
            boolean created = !Files.exists(file);
            FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
            FileLock lock;
            try {
                lock = channel.tryLock();
            } catch (OverlappingFileLockException sameJvm) {
                lock = null;
            }
            if (lock == null) {
                String holder = Files.exists(file) ? new String(Files.readAllBytes(file), StandardCharsets.UTF_8).strip()
                        .replaceAll(" \\[[0-9a-f-]+]$", "") : ""; // without the attempt's token
                channel.close();
                throw new InvalidInputException("Warehouse " + warehouse.root() + " is in use by another sparse-transfer run for "
                        + scope + " (" + (holder.isEmpty() ? "unknown" : holder) + "); wait for it to finish, or use another --out");
            }
            String stamped = owner + " [" + UUID.randomUUID() + "]";
            channel.truncate(0);
            channel.write(StandardCharsets.UTF_8.encode(stamped), 0);
            channel.force(true);
            if (Files.exists(file) && new String(Files.readAllBytes(file), StandardCharsets.UTF_8).equals(stamped)) {
                return new Held(file, channel, created);
            }
            channel.close();
            if (attempt == ATTEMPTS) {
                throw new IOException(file + " was removed and created again while this run locked it, " + ATTEMPTS + " times");
            }
        }
    }

    /** Releases every lock; a free lock file is left empty. */
    @Override
    public void close() {
        for (Held h : held) {
            try {
                h.channel().truncate(0);
            } catch (IOException ignored) {
                // a lock file's content only names its holder; the lock itself is released below
            }
        }
        release();
    }

    /**
     * Releases every lock after a failed command, removing the lock files and directories this
     * lock created. A file is removed while its lock is still held, so no other run can hold it.
     */
    public void abandon() {
        for (Held h : held) {
            if (h.created()) {
                try {
                    Files.deleteIfExists(h.file());
                } catch (IOException ignored) {
                    // an empty lock file left behind is harmless
                }
            }
        }
        close();
        for (Path dir : createdDirs) {
            try (var entries = Files.list(dir)) {
                if (entries.findAny().isEmpty()) {
                    Files.delete(dir);
                }
            } catch (IOException ignored) {
                // a directory another run writes into meanwhile stays
            }
        }
    }

    private void release() {
        for (Held h : held) {
            try {
                h.channel().close(); // releases its lock
            } catch (IOException ignored) {
                // closing a lock file cannot lose data; the OS drops the lock with the process anyway
            }
        }
    }
}
