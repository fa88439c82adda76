package org.sparsetransfer.core.io;

import java.io.IOException;
import java.io.InputStream;
import java.io.ObjectStreamException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/** {@link FileSource#local()}: plain local paths through {@code java.nio}. */
final class LocalFileSource implements FileSource {
    static final LocalFileSource INSTANCE = new LocalFileSource();

    private LocalFileSource() {}

    @Override
    public boolean isDirectory(String location) {
        return Files.isDirectory(Path.of(location));
    }

    @Override
    public boolean isFile(String location) {
        return Files.isRegularFile(Path.of(location));
    }

    @Override
    public long length(String location) throws IOException {
        return Files.size(Path.of(location));
    }

    @Override
    public long modified(String location) throws IOException {
        return Files.getLastModifiedTime(Path.of(location)).toMillis();
    }

    @Override
    public List<Entry> list(String location) throws IOException {
        List<Entry> entries = new ArrayList<>();
        try (Stream<Path> children = Files.list(Path.of(location))) {
            for (Path child : (Iterable<Path>) children::iterator) {
                boolean directory = Files.isDirectory(child);
                entries.add(new Entry(child.getFileName().toString(), directory, directory ? 0 : Files.size(child)));
            }
        }
        entries.sort(Comparator.comparing(Entry::name));
        return entries;
    }

    @Override
    public InputStream open(String location) throws IOException {
        return Files.newInputStream(Path.of(location));
    }

    @Override
    public String qualified(String location) {
        return Path.of(location).toAbsolutePath().normalize().toString();
    }

    private Object readResolve() throws ObjectStreamException {
        return INSTANCE;
    }
}
