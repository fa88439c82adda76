package org.sparsetransfer.core.data;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.ref.Cleaner;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A local file of spilled data, open for positional reads from any thread, closed and deleted
 * once nothing refers to it any more (or at {@link #delete}): a cache may simply drop the data
 * that holds it.
 */
public final class SpillFile {
    private static final Cleaner CLEANER = Cleaner.create();

    private final Path path;
    private final FileChannel channel;
    private final Cleaner.Cleanable cleanable;

    public SpillFile(Path path) throws IOException {
        this.path = path;
        this.channel = FileChannel.open(path, StandardOpenOption.READ);
        FileChannel open = channel;
        // The action must not refer to this object, or it would never become unreachable.
        this.cleanable = CLEANER.register(this, () -> {
            try {
                open.close();
                Files.deleteIfExists(path);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot delete spilled data " + path, e);
            }
        });
    }

    public Path path() {
        return path;
    }

    public long size() throws IOException {
        return channel.size();
    }

    /** Fills {@code into} from byte {@code position} of the file. */
    public void read(ByteBuffer into, long position) {
        try {
            for (long at = position; into.hasRemaining(); ) {
                int n = channel.read(into, at);
                if (n < 0) {
                    throw new IOException("it ends at byte " + at);
                }
                at += n;
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read spilled data " + path, e);
        }
    }

    /** Closes and deletes the file now. */
    public void delete() {
        cleanable.clean();
    }
}
