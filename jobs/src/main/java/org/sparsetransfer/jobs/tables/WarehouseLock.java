package org.sparsetransfer.jobs.tables;

import java.io.FileNotFoundException;
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
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileAlreadyExistsException;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.ipc.RemoteException;
import org.sparsetransfer.core.InvalidInputException;
import org.sparsetransfer.core.IoErrors;
import org.sparsetransfer.jobs.storage.Location;
import org.sparsetransfer.jobs.storage.Storage;

/**
 * One writer per part of a warehouse. A run locks the parts it writes (its scopes: a stage, or
 * {@code prune-<method>} for one pruning method), so that a second run of the same part fails fast,
 * naming the run that holds it, instead of racing it; runs of different parts may overlap (per-method
 * prune tasks from Airflow, for example), and their Delta writes retry on conflicts
 * ({@link DeltaTables#merge}). Each scope is a file {@code OUT/.locks/<scope>.lock} naming its
 * holder, held in the way the warehouse's file system allows:
 * <ul>
 *   <li>local: an OS file lock, released when the holder exits however it exits (a killed run
 *       leaves no stale lock); a free lock file is empty;
 *   <li>HDFS (and file systems like it): the file is created exclusively and kept open for
 *       writing while the run lives, so the NameNode's lease on it, which the client renews,
 *       is the lock. A run that is killed stops renewing: once HDFS's soft limit passes (60 s
 *       by default) the next run recovers the lease and takes the lock over. A released lock
 *       file is deleted;
 *   <li>object stores (S3A): no exclusive create exists, so no lock is taken; the run warns that
 *       it must be the only writer of its scopes.
 * </ul>
 *
 * <p>A command that fails calls {@link #abandon}: the lock files and directories it created are
 * removed again, so a failed command on a fresh {@code --out} leaves nothing behind.
 */
public final class WarehouseLock implements AutoCloseable {
    static final String LOCK_DIR = ".locks";
    /** Attempts to take a lock file that another run removes at the same moment (see {@link #abandon}). */
    private static final int ATTEMPTS = 3;
    /** How long to wait for HDFS to recover the lease of a killed holder's lock file. */
    private static final long LEASE_RECOVERY_WAIT_MS = 30_000;

    /** One held scope. */
    private interface Held {
        /** Releases the scope; {@code failed}: the run failed, so a lock file it created goes too. */
        void release(boolean failed);
    }

    private final List<Held> held;
    /** Directories this lock created (the warehouse root, {@code .locks}), innermost first. */
    private final List<Location> createdDirs;
    private final Storage storage;

    private WarehouseLock(List<Held> held, List<Location> createdDirs, Storage storage) {
        this.held = held;
        this.createdDirs = createdDirs;
        this.storage = storage;
    }

    /** Locks the single scope {@code command} of a local warehouse. */
    public static WarehouseLock acquire(Warehouse warehouse, String command) {
        return acquire(warehouse, command, List.of(command));
    }

    /** Locks every scope in {@code scopes} of a local warehouse for {@code command}, or none of them. */
    public static WarehouseLock acquire(Warehouse warehouse, String command, Collection<String> scopes) {
        return acquire(new Storage(new Configuration()), warehouse, command, scopes);
    }

    /** Locks every scope in {@code scopes} for {@code command}, or none of them, on the warehouse's file system. */
    public static WarehouseLock acquire(Storage storage, Warehouse warehouse, String command, Collection<String> scopes) {
        Location dir = warehouse.root().resolve(LOCK_DIR);
        Storage.Kind kind = Storage.kind(dir);
        storage.checkWritableDirectory(warehouse.root(), "--out"); // an object store too: its client is on the classpath, it answers
        if (kind == Storage.Kind.OBJECT_STORE) {
            System.err.println("warning: " + warehouse.root() + " is on an object store, which offers no exclusive create, so this run"
                    + " takes no lock: run at most one command per stage (one prune per method) on this warehouse at a time;"
                    + " deploy/README.md says how Delta's DynamoDB log store lets parallel writers commit safely");
            return new WarehouseLock(List.of(), List.of(), storage);
        }
        List<Location> createdDirs = new ArrayList<>();
        List<Held> held = new ArrayList<>();
        try {
            for (Location d : List.of(warehouse.root(), dir)) {
                if (!storage.isDirectory(d)) {
                    storage.mkdirs(d);
                    createdDirs.add(0, d);
                }
            }
            String owner = "command " + command + ", pid " + ProcessHandle.current().pid() + " on "
                    + InetAddress.getLocalHost().getHostName() + ", since " + Instant.now();
            for (String scope : new TreeSet<>(scopes)) {
                Location file = dir.resolve(scope + ".lock");
                held.add(kind == Storage.Kind.LOCAL ? lockLocal(warehouse, file.localPath(), scope, owner)
                        : lockByLease(storage, warehouse, file, scope, owner));
            }
            return new WarehouseLock(held, createdDirs, storage);
        } catch (IOException e) {
            new WarehouseLock(held, createdDirs, storage).abandon();
            throw new InvalidInputException("Cannot use " + warehouse.root() + " as the warehouse (--out): "
                    + (kind == Storage.Kind.LOCAL ? IoErrors.describe(e) : Storage.reason(e, dir)) + "; choose a directory you can write", e);
        } catch (RuntimeException e) {
            new WarehouseLock(held, createdDirs, storage).abandon();
            throw e;
        }
    }

    private static InvalidInputException inUse(Warehouse warehouse, String scope, String holder, String whatToDo) {
        return new InvalidInputException("Warehouse " + warehouse.root() + " is in use by another sparse-transfer run for "
                + scope + " (" + (holder.isEmpty() ? "unknown" : holder) + "); " + whatToDo);
    }

    /** The holder a lock file names: its last line, without the attempt's token. */
    private static String holder(String content) {
        String[] lines = content.strip().split("\n");
        return lines[lines.length - 1].strip().replaceAll(" \\[[0-9a-f-]+]$", "");
    }

    /**
     * Locks one scope's local file and writes the owner into it. The owner line carries a token of
     * this attempt: reading it back through the path proves the locked file is still the one the
     * path names, not one that a failing run removed between our open and our lock.
     */
    private static Held lockLocal(Warehouse warehouse, Path file, String scope, String owner) throws IOException {
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
                String holder = Files.exists(file) ? holder(new String(Files.readAllBytes(file), StandardCharsets.UTF_8)) : "";
                channel.close();
                throw inUse(warehouse, scope, holder, "wait for it to finish, or use another --out");
            }
            String stamped = owner + " [" + UUID.randomUUID() + "]";
            channel.truncate(0);
            channel.write(StandardCharsets.UTF_8.encode(stamped), 0);
            channel.force(true);
            if (Files.exists(file) && new String(Files.readAllBytes(file), StandardCharsets.UTF_8).equals(stamped)) {
                return new LocalHeld(file, channel, created);
            }
            channel.close();
            if (attempt == ATTEMPTS) {
                throw new IOException(file + " was removed and created again while this run locked it, " + ATTEMPTS + " times");
            }
        }
    }

    /** A local scope: its file, the channel holding the OS lock, and whether this lock created the file. */
    private record LocalHeld(Path file, FileChannel channel, boolean created) implements Held {
        @Override
        public void release(boolean failed) {
            if (failed && created) {
                try {
                    Files.deleteIfExists(file); // while the lock is still held, so no other run holds it
                } catch (IOException ignored) {
                    // an empty lock file left behind is harmless
                }
            }
            try {
                channel.truncate(0);
            } catch (IOException ignored) {
                // a lock file's content only names its holder; the lock itself is released below
            }
            try {
                channel.close(); // releases its lock
            } catch (IOException ignored) {
                // closing a lock file cannot lose data; the OS drops the lock with the process anyway
            }
        }
    }

    /**
     * Locks one scope on HDFS: creates the lock file exclusively, or, if it exists, appends to it,
     * which the NameNode allows only when no live client holds the file's lease. The stream stays
     * open while the run lives; its client renews the lease.
     */
    private static Held lockByLease(Storage storage, Warehouse warehouse, Location file, String scope, String owner) throws IOException {
        FileSystem fs = storage.fileSystem(file);
        String stamped = owner + " [" + UUID.randomUUID() + "]\n";
        long deadline = System.currentTimeMillis() + LEASE_RECOVERY_WAIT_MS;
        while (true) {
            FSDataOutputStream out;
            try {
                try {
                    out = fs.create(file.hadoopPath(), false);
                } catch (FileAlreadyExistsException closed) {
                    // A lock file left closed (HDFS recovered a killed holder's lease, or a release did not
                    // delete it). Appending takes its lease, which only one client can win; the winner
                    // deletes the file while holding it and creates it afresh (writing into the old
                    // block would need the DataNodes' append pipeline for nothing).
                    FSDataOutputStream won = fs.append(file.hadoopPath());
                    fs.delete(file.hadoopPath(), false);
                    closeQuietly(won);
                    continue; // a run that creates it first now holds it, and this one says so
                }
            } catch (FileNotFoundException released) {
                continue; // released between our create and our append: create it
            } catch (RemoteException e) {
                // The NameNode refuses both while another client's lease on the file is live, and
                // starts recovering a lease its holder stopped renewing (past the soft limit).
                String refused = e.getClassName();
                if (refused.endsWith("AlreadyBeingCreatedException")) {
                    String holder;
                    try {
                        holder = holder(storage.readString(file));
                    } catch (RuntimeException unreadable) {
                        holder = "";
                    }
                    throw inUse(warehouse, scope, holder, "wait for it to finish, or use another --out. If that run was killed,"
                            + " HDFS frees its lock once the lease it no longer renews expires (60 s after its end by default);"
                            + " to break the lock at once, make sure that run is gone and delete " + file.uri() + " (hdfs dfs -rm "
                            + file.uri() + ")");
                }
                if (refused.endsWith("RecoveryInProgressException") && System.currentTimeMillis() < deadline) {
                    sleep(1000); // the killed holder's lease is being recovered; the file closes shortly
                    continue;
                }
                throw e;
            }
            out.write(stamped.getBytes(StandardCharsets.UTF_8));
            out.hflush(); // the holder's name is readable by others while the file stays open
            return new LeaseHeld(fs, file, out);
        }
    }

    /** An HDFS scope: the lock file and the open stream whose lease is the lock. */
    private record LeaseHeld(FileSystem fs, Location file, FSDataOutputStream out) implements Held {
        @Override
        public void release(boolean failed) {
            try {
                fs.delete(file.hadoopPath(), false); // deleted while still held, so no other run holds it meanwhile
            } catch (IOException ignored) {
                // a lock file left closed is taken over by the next run (its append succeeds)
            }
            closeQuietly(out);
        }
    }

    private static void closeQuietly(FSDataOutputStream out) {
        try {
            out.close();
        } catch (IOException ignored) {
            // the file is deleted; closing only ends this client's lease on it
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for a lock", e);
        }
    }

    /** Releases every lock. */
    @Override
    public void close() {
        held.forEach(h -> h.release(false));
    }

    /**
     * Releases every lock after a failed command, removing the lock files and directories this
     * lock created.
     */
    public void abandon() {
        held.forEach(h -> h.release(true));
        createdDirs.forEach(storage::deleteIfEmpty);
    }
}
