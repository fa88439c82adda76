package org.sparsetransfer.jobs.storage;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.apache.hadoop.fs.FileStatus;
import org.sparsetransfer.core.io.FileSource;

/**
 * The {@link FileSource} the application gives {@code core}: dataset, config and weight files read
 * through Hadoop's FileSystem with the session's Hadoop configuration, so a plain path stays local
 * and {@code hdfs://}, {@code s3a://} and the rest reach their file systems. Sent to executors with
 * the work that reads there (ingest's decoding), where it takes the executor's configuration.
 * I/O failures carry {@link Storage#reason} in words (unreachable NameNode, permission, ...).
 */
public final class HadoopFileSource implements FileSource {
    private static final long serialVersionUID = 1L;
    private static final String WHAT = "data path";

    /** Null after deserialization: then the executor's own configuration. */
    private transient Storage storage;

    public HadoopFileSource(Storage storage) {
        this.storage = storage;
    }

    private Storage storage() {
        if (storage == null) {
            storage = Storage.onExecutor();
        }
        return storage;
    }

    private static Location location(String text) {
        return Location.parse(text, WHAT);
    }

    @Override
    public boolean isDirectory(String text) throws IOException {
        FileStatus status = status(text);
        return status != null && status.isDirectory();
    }

    @Override
    public boolean isFile(String text) throws IOException {
        FileStatus status = status(text);
        return status != null && status.isFile();
    }

    @Override
    public long length(String text) throws IOException {
        FileStatus status = status(text);
        if (status == null) {
            throw new FileNotFoundException(text + ": no such file or directory");
        }
        return status.getLen();
    }

    @Override
    public long modified(String text) throws IOException {
        FileStatus status = status(text);
        if (status == null) {
            throw new FileNotFoundException(text + ": no such file or directory");
        }
        return status.getModificationTime();
    }

    @Override
    public List<Entry> list(String text) throws IOException {
        Location dir = location(text);
        List<Entry> entries = new ArrayList<>();
        try {
            for (FileStatus s : storage().fileSystem(dir).listStatus(dir.hadoopPath())) {
                entries.add(new Entry(s.getPath().getName(), s.isDirectory(), s.isDirectory() ? 0 : s.getLen()));
            }
        } catch (IOException e) {
            throw inWords(e, dir);
        }
        entries.sort(Comparator.comparing(Entry::name));
        return entries;
    }

    @Override
    public InputStream open(String text) throws IOException {
        Location file = location(text);
        try {
            return storage().open(file);
        } catch (IOException e) {
            throw inWords(e, file);
        }
    }

    @Override
    public String qualified(String text) {
        return location(text).toString();
    }

    /** The status of {@code text}, or null if nothing is there. */
    private FileStatus status(String text) throws IOException {
        Location location = location(text);
        try {
            return storage().fileSystem(location).getFileStatus(location.hadoopPath());
        } catch (FileNotFoundException e) {
            return null;
        } catch (IOException e) {
            throw inWords(e, location);
        }
    }

    private static IOException inWords(IOException e, Location location) {
        return e instanceof FileNotFoundException ? e : new IOException(Storage.reason(e, location), e);
    }
}
