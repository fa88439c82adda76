package org.sparsetransfer.jobs.stages;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.apache.commons.io.FileUtils;
import org.sparsetransfer.jobs.storage.Location;
import org.sparsetransfer.jobs.storage.Storage;

/**
 * Publishes the files of one report into a directory of the warehouse (any file system) so that
 * a reader finds either the old report or the new one, never a mix. The files are rendered into
 * a local temporary folder, then copied into a staging folder {@code .staging-TOKEN/} beside
 * them, with a manifest listing them; only when all are there does the report commit its Delta
 * table, recording {@code TOKEN} in the commit; then the files are moved into place one by one
 * (a rename that replaces its target atomically on local disks and HDFS; on an object store a
 * copy, each object appearing whole), the previous report's files that the new one lacks are
 * removed, and the manifest is moved last.
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

    private final Storage storage;
    private final Location dir;
    private final Location staging;
    /** Where the renderers write, on the driver's disk (charts and CSV writers want local files). */
    private final Path local;
    private final String token;
    /** Whether {@code dir} was made for this report (a first report): discarding removes it again. */
    private final boolean createdDir;
    private final Set<String> files = new LinkedHashSet<>();

    private ReportPublication(Storage storage, Location dir, String token, Path local, boolean createdDir) {
        this.storage = storage;
        this.dir = dir;
        this.staging = dir.resolve(STAGING_PREFIX + token);
        this.token = token;
        this.local = local;
        this.createdDir = createdDir;
    }

    /** Starts a report's files for {@code dir}: nothing is written there before {@link #seal()}. */
    static ReportPublication begin(Storage storage, Location dir) {
        String token = UUID.randomUUID().toString();
        try {
            Path local = Files.createTempDirectory("sparse-transfer-report-");
            return new ReportPublication(storage, dir, token, local, !storage.isDirectory(dir));
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot create a temporary folder for the report's files", e);
        }
    }

    /** The token the report's Delta commit records, tying the table's version to these files. */
    String token() {
        return token;
    }

    /** Where a file of the report is written (a local folder) before it is published. */
    Path stagingDir() {
        return local;
    }

    /** Adds a file the caller wrote into {@link #stagingDir()}. */
    void added(String name) {
        files.add(name);
    }

    void write(String name, String content) {
        try {
            Files.writeString(local.resolve(name), content, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot write " + local.resolve(name), e);
        }
        files.add(name);
    }

    /** Copies the files into the warehouse's staging folder and seals them (writes the manifest): after this, they may be committed. */
    void seal() {
        try {
            storage.mkdirs(staging);
        } catch (IOException e) {
            throw Storage.failure("cannot create", staging, e);
        }
        for (String name : files) {
            storage.upload(local.resolve(name), staging.resolve(name));
        }
        List<String> lines = new ArrayList<>();
        lines.add(TOKEN_LINE + token);
        lines.addAll(files);
        storage.writeString(staging.resolve(MANIFEST), String.join("\n", lines) + "\n");
        FileUtils.deleteQuietly(local.toFile());
    }

    /** Moves the sealed files into place. */
    void commit() {
        moveIntoPlace(storage, dir, staging);
    }

    /** Abandons the staged files (a report that failed before its Delta commit), and {@code dir} if this report made it. */
    void discard() {
        FileUtils.deleteQuietly(local.toFile());
        try {
            storage.delete(staging);
        } catch (RuntimeException leftForTheNextReport) {
            // the next report deletes any staging folder its table's last commit does not name
        }
        if (createdDir) {
            storage.deleteIfEmpty(dir);
        }
    }

    /**
     * Finishes or discards what earlier reports into {@code dir} left: a staging folder whose
     * token is {@code committedToken} (the one the report table's last commit recorded) is moved
     * into place; any other is deleted.
     *
     * @return the tokens of the staging folders that were completed
     */
    static List<String> recover(Storage storage, Location dir, String committedToken) {
        List<String> completed = new ArrayList<>();
        for (String name : storage.list(dir)) {
            if (!name.startsWith(STAGING_PREFIX)) {
                continue;
            }
            Location staging = dir.resolve(name);
            String token = name.substring(STAGING_PREFIX.length());
            if (token.equals(committedToken) && storage.exists(staging.resolve(MANIFEST))) {
                moveIntoPlace(storage, dir, staging);
                completed.add(token);
            } else {
                storage.delete(staging);
            }
        }
        return completed;
    }

    /** The token of the report whose files are in {@code dir}, or null when it has none. */
    static String publishedToken(Storage storage, Location dir) {
        Location manifest = dir.resolve(MANIFEST);
        if (!storage.exists(manifest)) {
            return null;
        }
        String first = storage.readString(manifest).lines().findFirst().orElse("");
        return first.startsWith(TOKEN_LINE) ? first.substring(TOKEN_LINE.length()) : null;
    }

    /** Copies the published files of {@code dir} (those its manifest lists, and the manifest) into the local directory {@code local}. */
    static int copyPublished(Storage storage, Location dir, Path local) {
        try {
            Files.createDirectories(local);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot create " + local, e);
        }
        List<String> names = new ArrayList<>(names(storage, dir.resolve(MANIFEST)));
        names.add(MANIFEST);
        for (String name : names) {
            storage.download(dir.resolve(name), local.resolve(name));
        }
        return names.size();
    }

    private static List<String> names(Storage storage, Location manifest) {
        return storage.readString(manifest).lines().filter(l -> !l.isBlank() && !l.startsWith("#")).toList();
    }

    /** Idempotent: a file already moved is no longer in the staging folder. */
    private static void moveIntoPlace(Storage storage, Location dir, Location staging) {
        List<String> names = names(storage, staging.resolve(MANIFEST));
        for (String name : names) {
            Location staged = staging.resolve(name);
            if (storage.exists(staged)) {
                storage.replace(staged, dir.resolve(name));
            }
        }
        Location previous = dir.resolve(MANIFEST);
        if (storage.exists(previous)) {
            for (String old : names(storage, previous)) {
                if (!names.contains(old)) {
                    storage.delete(dir.resolve(old));
                }
            }
        }
        storage.replace(staging.resolve(MANIFEST), previous);
        storage.delete(staging);
    }
}
