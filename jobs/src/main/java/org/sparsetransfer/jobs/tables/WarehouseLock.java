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
import org.sparsetransfer.core.InvalidInputException;

/**
 * One writer per part of a warehouse. A run locks the parts it writes (its scopes: a stage, or
 * {@code prune-<method>} for one pruning method), so that a second run of the same part fails fast,
 * naming the run that holds it, instead of racing it; runs of different parts may overlap (per-method
 * prune tasks from Airflow, for example), and their Delta writes retry on conflicts
 * ({@link DeltaTables#merge}). OS file locks, so they are released when the holder exits however it
 * exits (a killed run leaves no stale lock). They cover runs on one machine or a shared POSIX file
 * system; object stores are not covered.
 */
public final class WarehouseLock implements AutoCloseable {
    static final String LOCK_DIR = ".locks";

    private final List<FileChannel> channels;

    private WarehouseLock(List<FileChannel> channels) {
        this.channels = channels;
    }

    /** Locks the single scope {@code command}. */
    public static WarehouseLock acquire(Warehouse warehouse, String command) {
        return acquire(warehouse, command, List.of(command));
    }

    /** Locks every scope in {@code scopes} for {@code command}, or none of them. */
    public static WarehouseLock acquire(Warehouse warehouse, String command, Collection<String> scopes) {
        List<FileChannel> held = new ArrayList<>();
        try {
            Path dir = warehouse.root().resolve(LOCK_DIR);
            Files.createDirectories(dir);
            String owner = "command " + command + ", pid " + ProcessHandle.current().pid() + " on "
                    + InetAddress.getLocalHost().getHostName() + ", since " + Instant.now();
            for (String scope : new TreeSet<>(scopes)) {
                Path file = dir.resolve(scope + ".lock");
                FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
                FileLock lock;
                try {
                    lock = channel.tryLock();
                } catch (OverlappingFileLockException sameJvm) {
                    lock = null;
                }
                if (lock == null) {
                    String holder = new String(Files.readAllBytes(file), StandardCharsets.UTF_8).strip();
                    channel.close();
                    release(held);
                    throw new InvalidInputException("Warehouse " + warehouse.root() + " is in use by another sparse-transfer run for "
                            + scope + " (" + (holder.isEmpty() ? "unknown" : holder) + "); wait for it to finish, or use another --out");
                }
                channel.truncate(0);
                channel.write(StandardCharsets.UTF_8.encode(owner), 0);
                channel.force(true);
                held.add(channel);
            }
            return new WarehouseLock(held);
        } catch (IOException e) {
            release(held);
            throw new InvalidInputException("Cannot lock warehouse " + warehouse.root() + ": " + e.getMessage(), e);
        }
    }

    private static void release(List<FileChannel> channels) {
        for (FileChannel channel : channels) {
            try {
                channel.close(); // releases its lock
            } catch (IOException ignored) {
                // closing a lock file cannot lose data; the OS drops the lock with the process anyway
            }
        }
    }

    @Override
    public void close() {
        release(channels);
    }
}
