package org.sparsetransfer.core.io;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where {@code core} writes files it generates (the synthetic image datasets), by location string
 * as in {@link FileSource}; the application passes one backed by Hadoop's FileSystem.
 */
@FunctionalInterface
public interface FileSink {
    /** Creates or replaces the file at {@code location}, and the directories above it; the caller closes the stream. */
    OutputStream create(String location) throws IOException;

    /** The machine's own files, through {@code java.nio}: for tests and Spark-free tools only. */
    static FileSink local() {
        return location -> {
            Path file = Path.of(location);
            if (file.getParent() != null) {
                Files.createDirectories(file.getParent());
            }
            return Files.newOutputStream(file);
        };
    }
}
