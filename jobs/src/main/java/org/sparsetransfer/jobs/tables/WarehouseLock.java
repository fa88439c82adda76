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
import org.sparsetransfer.core.InvalidInputException;

/**
 * One writer per warehouse: a second run against the same {@code --out} fails fast, naming the
 * run that holds it, instead of racing it. An OS file lock, so it is released when the holder
 * exits however it exits (a killed run leaves no stale lock). It covers runs on one machine or
 * a shared POSIX file system; object stores are not covered.
 */
public final class WarehouseLock implements AutoCloseable {
    static final String LOCK_FILE = ".sparse-transfer.lock";

    private final FileChannel channel;
    private final FileLock lock;

    private WarehouseLock(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    public static WarehouseLock acquire(Warehouse warehouse, String command) {
        Path file = warehouse.root().resolve(LOCK_FILE);
        try {
            Files.createDirectories(warehouse.root());
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
                throw new InvalidInputException("Warehouse " + warehouse.root() + " is in use by another sparse-transfer run ("
                        + (holder.isEmpty() ? "unknown" : holder) + "); wait for it to finish, or use another --out");
            }
            String owner = "command " + command + ", pid " + ProcessHandle.current().pid() + " on "
                    + InetAddress.getLocalHost().getHostName() + ", since " + Instant.now();
            channel.truncate(0);
            channel.write(StandardCharsets.UTF_8.encode(owner), 0);
            channel.force(true);
            return new WarehouseLock(channel, lock);
        } catch (IOException e) {
            throw new InvalidInputException("Cannot lock warehouse " + warehouse.root() + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void close() throws IOException {
        lock.release();
        channel.close();
    }
}
