package org.sparsetransfer.core.io;

import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.util.List;

/**
 * The file system that dataset, config and weight files are read from, as {@code core} sees it:
 * locations are strings (a plain local path, or a URI such as {@code hdfs://nn:8020/data}), so
 * that {@code core} needs neither Hadoop nor Spark. The application passes one backed by
 * Hadoop's {@code FileSystem}; {@link #local()} serves tests and tools that run without Spark.
 * Serializable, so the readers that run on executors receive it with their work.
 */
public interface FileSource extends Serializable {
    /** One entry of a directory: its name (not a path), whether it is a directory, and its length in bytes. */
    record Entry(String name, boolean directory, long length) {}

    /** Whether {@code location} exists and is a directory. */
    boolean isDirectory(String location) throws IOException;

    /** Whether {@code location} exists and is a file. */
    boolean isFile(String location) throws IOException;

    /** The length of the file at {@code location}, in bytes. */
    long length(String location) throws IOException;

    /** When the file at {@code location} was last modified, in milliseconds since the epoch. */
    long modified(String location) throws IOException;

    /** The entries of the directory at {@code location}, sorted by name; one listing, so a large tree costs one call per directory. */
    List<Entry> list(String location) throws IOException;

    /** The content of the file at {@code location}; the caller closes it. */
    InputStream open(String location) throws IOException;

    /**
     * {@code location} in a form that means the same file on every machine of a cluster (a
     * plain path made absolute and given its scheme), for work that is read elsewhere.
     */
    String qualified(String location);

    /** {@code name} inside the directory {@code location}. */
    static String resolve(String location, String name) {
        return location.endsWith("/") ? location + name : location + "/" + name;
    }

    /** The last name of {@code location}. */
    static String name(String location) {
        String trimmed = location.endsWith("/") ? location.substring(0, location.length() - 1) : location;
        return trimmed.substring(trimmed.lastIndexOf('/') + 1);
    }

    /** The machine's own files, through {@code java.nio}: for tests and Spark-free tools only. */
    static FileSource local() {
        return LocalFileSource.INSTANCE;
    }
}
