package org.sparsetransfer.jobs.stages;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Stream;
import org.apache.commons.io.FileUtils;

/**
 * Publishes the files of one report into a directory so that a reader finds either the old
 * report or the new one, never a mix. Every file is first written into a staging folder
 * {@code .staging-TOKEN/} beside them, with a manifest listing them; only when all are written
 * does the report commit its Delta table, recording {@code TOKEN} in the commit; then the files
 * are moved into place one by one (atomic renames), the previous report's files that the new one
 * lacks are removed, and the manifest is moved last.
 *
 * <p>A report that fails before its Delta commit leaves the old files and the old table; its
 * staging folder is deleted by the next report. One killed after its commit but before its
 * moves finished leaves the new table and a staging folder whose token the table's last commit
 * names: the next report (or pipeline) completes the moves first ({@link #recover}).
 */
final class ReportPublication {
    static final String STAGING_PREFIX = ".staging-";
    /**
     * The current report's files: a first line {@code # token TOKEN} (the token its Delta commit
     * recorded), then one file name per line; written last.
     */
    static final String MANIFEST = ".report-files";
    private static final String TOKEN_LINE = "# token ";

    private final Path dir;
    private final Path staging;
    private final String token;
    /** Whether {@code dir} was made for this report (a first report): discarding removes it again. */
    private final boolean createdDir;
    private final Set<String> files = new LinkedHashSet<>();

    private ReportPublication(Path dir, Path staging, String token, boolean createdDir) {
        this.dir = dir;
        this.staging = staging;
        this.token = token;
        this.createdDir = createdDir;
    }

    /** Starts a report's files for {@code dir}, in a staging folder of its own. */
    static ReportPublication begin(Path dir) {
        String token = UUID.randomUUID().toString();
        Path staging = dir.resolve(STAGING_PREFIX + token);
        boolean created = !Files.isDirectory(dir);
        try {
            Files.createDirectories(staging);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot create " + staging, e);
        }
        return new ReportPublication(dir, staging, token, created);
    }

    /** The token the report's Delta commit records, tying the table's version to these files. */
    String token() {
        return token;
    }

    /** Where a file of the report is written before it is published. */
    Path stagingDir() {
        return staging;
    }

    /** Adds a file the caller wrote into {@link #stagingDir()}. */
    void added(String name) {
        files.add(name);
    }

    void write(String name, String content) {
        try {
            Files.writeString(staging.resolve(name), content, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot write " + staging.resolve(name), e);
        }
        files.add(name);
    }

    /** Seals the staged files (writes the manifest): after this, the files may be committed. */
    void seal() {
        try {
            List<String> lines = new ArrayList<>();
            lines.add(TOKEN_LINE + token);
            lines.addAll(files);
            Files.write(staging.resolve(MANIFEST), lines, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot write " + staging.resolve(MANIFEST), e);
        }
    }

    /** Moves the sealed files into place. */
    void commit() {
        moveIntoPlace(dir, staging);
    }

    /** Abandons the staged files (a report that failed before its Delta commit), and {@code dir} if this report made it. */
    void discard() {
        FileUtils.deleteQuietly(staging.toFile());
        if (createdDir) {
            try (Stream<Path> entries = Files.list(dir)) {
                if (entries.findAny().isEmpty()) {
                    Files.delete(dir);
                }
            } catch (IOException ignored) {
                // a directory that cannot be listed or removed stays; it holds no report
            }
        }
    }

    /**
     * Finishes or discards what earlier reports into {@code dir} left: a staging folder whose
     * token is {@code committedToken} (the one the report table's last commit recorded) is moved
     * into place; any other is deleted.
     *
     * @return the tokens of the staging folders that were completed
     */
    static List<String> recover(Path dir, String committedToken) {
        List<String> completed = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return completed;
        }
        try (Stream<Path> entries = Files.list(dir)) {
            for (Path staging : entries.filter(p -> p.getFileName().toString().startsWith(STAGING_PREFIX)).toList()) {
                String token = staging.getFileName().toString().substring(STAGING_PREFIX.length());
                if (token.equals(committedToken) && Files.exists(staging.resolve(MANIFEST))) {
                    moveIntoPlace(dir, staging);
                    completed.add(token);
                } else {
                    FileUtils.deleteQuietly(staging.toFile());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot list " + dir, e);
        }
        return completed;
    }

    /** The token of the report whose files are in {@code dir}, or null when it has none. */
    static String publishedToken(Path dir) {
        Path manifest = dir.resolve(MANIFEST);
        try {
            if (!Files.exists(manifest)) {
                return null;
            }
            String first = Files.readAllLines(manifest, StandardCharsets.UTF_8).stream().findFirst().orElse("");
            return first.startsWith(TOKEN_LINE) ? first.substring(TOKEN_LINE.length()) : null;
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read " + manifest, e);
        }
    }

    private static List<String> names(Path manifest) throws IOException {
        return Files.readAllLines(manifest, StandardCharsets.UTF_8).stream().filter(l -> !l.isBlank() && !l.startsWith("#")).toList();
    }

    /** Idempotent: a file already moved is no longer in the staging folder. */
    private static void moveIntoPlace(Path dir, Path staging) {
        try {
            List<String> names = names(staging.resolve(MANIFEST));
            for (String name : names) {
                Path staged = staging.resolve(name);
                if (Files.exists(staged)) {
                    Files.move(staged, dir.resolve(name), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                }
            }
            Path previous = dir.resolve(MANIFEST);
            if (Files.exists(previous)) {
                for (String old : names(previous)) {
                    if (!names.contains(old)) {
                        Files.deleteIfExists(dir.resolve(old));
                    }
                }
            }
            Files.move(staging.resolve(MANIFEST), previous, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            FileUtils.deleteDirectory(staging.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot move the report's files from " + staging + " into " + dir, e);
        }
    }
}
