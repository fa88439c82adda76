package org.sparsetransfer.jobs.storage;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileContext;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.Options;
import org.apache.hadoop.fs.ParentNotDirectoryException;
import org.apache.hadoop.fs.UnsupportedFileSystemException;
import org.apache.hadoop.security.AccessControlException;
import org.apache.spark.SparkConf;
import org.apache.spark.deploy.SparkHadoopUtil;
import org.apache.spark.sql.SparkSession;
import org.sparsetransfer.core.InvalidInputException;

/**
 * Every read, write, list, rename and delete of a warehouse file outside Delta's own, through
 * Hadoop's {@link FileSystem} with the Hadoop configuration Spark derives from its conf
 * ({@code spark.hadoop.*} included), so the same settings reach HDFS and S3A whether or not a
 * session runs yet. Local files go through Hadoop's raw local file system: no {@code .crc}
 * files beside a report, and a rename that replaces its target atomically (POSIX rename).
 */
public final class Storage {
    /** How a file system behaves where it matters to locks and atomic replacement. */
    public enum Kind {
        /** The machine's own disk: OS file locks, atomic rename. */
        LOCAL,
        /** HDFS and alike: exclusive create, leases, atomic rename. */
        DISTRIBUTED,
        /** S3 and other object stores: no exclusive create, rename is copy and delete; each write appears whole. */
        OBJECT_STORE
    }

    private static final Set<String> OBJECT_STORES = Set.of("s3a", "s3", "s3n", "gs", "oss", "cos", "cosn", "obs", "wasb", "wasbs", "abfs", "abfss");

    private final Configuration conf;

    public Storage(Configuration conf) {
        this.conf = conf;
    }

    /** With the Hadoop configuration a session on {@code sparkConf} would have. */
    public static Storage forSparkConf(SparkConf sparkConf) {
        return new Storage(SparkHadoopUtil.get().newConfiguration(sparkConf));
    }

    /** With the running session's Hadoop configuration. */
    public static Storage of(SparkSession spark) {
        return new Storage(spark.sparkContext().hadoopConfiguration());
    }

    /**
     * On an executor, with the application's Hadoop configuration ({@code spark.hadoop.*}
     * included: credentials for HDFS, S3A, ...); outside Spark, Hadoop's defaults.
     */
    public static Storage onExecutor() {
        org.apache.spark.SparkEnv env = org.apache.spark.SparkEnv.get();
        return new Storage(env == null ? new Configuration() : SparkHadoopUtil.get().newConfiguration(env.conf()));
    }

    public Configuration hadoopConf() {
        return conf;
    }

    public static Kind kind(Location location) {
        if (location.isLocal()) {
            return Kind.LOCAL;
        }
        return OBJECT_STORES.contains(location.scheme()) ? Kind.OBJECT_STORE : Kind.DISTRIBUTED;
    }

    /** The file system holding {@code location}; an unknown scheme or unreachable host is one clear error. */
    public FileSystem fileSystem(Location location) {
        try {
            FileSystem fs = location.hadoopPath().getFileSystem(conf);
            return fs instanceof LocalFileSystem local ? local.getRawFileSystem() : fs;
        } catch (UnsupportedFileSystemException e) {
            throw new InvalidInputException(location + ": no file system for scheme \"" + location.scheme() + "\"; use a local path, "
                    + "file:, hdfs:// or s3a:// (s3a needs hadoop-aws on the classpath: see deploy/README.md)", e);
        } catch (IOException e) {
            throw failure("cannot open the file system of", location, e);
        } catch (RuntimeException e) {
            if (e.getCause() instanceof ClassNotFoundException missing) {
                // Hadoop knows the scheme's class name (core-default.xml) but the jar holding it is not on the classpath.
                String hadoop = org.apache.hadoop.util.VersionInfo.getVersion();
                String fix = location.scheme().equals("s3a")
                        ? "add hadoop-aws at the Hadoop client's version and the AWS SDK, e.g. spark-submit --packages org.apache.hadoop:hadoop-aws:"
                                + hadoop + " (deploy/README.md, S3)"
                        : "add the jar of that file system at the Hadoop client's version " + hadoop;
                throw new InvalidInputException(location + ": the file system for scheme \"" + location.scheme() + "\" is not on the classpath ("
                        + missing.getMessage() + "); " + fix, e);
            }
            throw e;
        }
    }

    /**
     * Checks that {@code dir} can be used as a directory this run writes: its file system
     * answers, and the nearest existing ancestor is a directory this user may write. Nothing is
     * created.
     */
    public void checkWritableDirectory(Location dir, String option) {
        FileSystem fs = fileSystem(dir);
        try {
            Location existing = dir;
            while (existing != null && !fs.exists(existing.hadoopPath())) {
                existing = existing.parent();
            }
            if (existing == null) {
                return; // a bucket or file system without even a root entry: the first write creates it
            }
            FileStatus status = fs.getFileStatus(existing.hadoopPath());
            if (!status.isDirectory()) {
                throw new InvalidInputException(option + " " + dir + ": " + existing + " is a file, not a directory; choose another " + option);
            }
            if (kind(dir) == Kind.LOCAL) {
                // The OS's own check (access(2)): Hadoop's reading of the mode bits knows neither root nor ACLs.
                if (!java.nio.file.Files.isWritable(existing.localPath())) {
                    throw new InvalidInputException(option + " " + dir + ": permission denied: " + existing + " is not writable by this user;"
                            + " choose a directory you may write");
                }
            } else if (kind(dir) == Kind.DISTRIBUTED) { // object stores have no directory permissions to check
                fs.access(existing.hadoopPath(), org.apache.hadoop.fs.permission.FsAction.WRITE);
            }
        } catch (AccessControlException e) {
            throw new InvalidInputException(option + " " + dir + ": permission denied (" + firstLine(e) + "); choose a directory you may write", e);
        } catch (IOException e) {
            throw failure(option, dir, e);
        }
    }

    public boolean exists(Location location) {
        try {
            return fileSystem(location).exists(location.hadoopPath());
        } catch (IOException e) {
            throw failure("cannot check", location, e);
        }
    }

    public boolean isDirectory(Location location) {
        try {
            return fileSystem(location).getFileStatus(location.hadoopPath()).isDirectory();
        } catch (FileNotFoundException e) {
            return false;
        } catch (IOException e) {
            throw failure("cannot check", location, e);
        }
    }

    /** The names in a directory; empty when it does not exist. */
    public List<String> list(Location dir) {
        try {
            List<String> names = new ArrayList<>();
            for (FileStatus s : fileSystem(dir).listStatus(dir.hadoopPath())) {
                names.add(s.getPath().getName());
            }
            names.sort(null);
            return names;
        } catch (FileNotFoundException e) {
            return List.of();
        } catch (IOException e) {
            throw failure("cannot list", dir, e);
        }
    }

    /** Creates {@code dir} and its parents; the exception says why it could not. */
    public void mkdirs(Location dir) throws IOException {
        if (dir.isLocal()) {
            // Hadoop's local mkdirs only returns false; the OS's call says why (no such directory, permission, a file in the way).
            java.nio.file.Files.createDirectories(dir.localPath());
        } else if (!fileSystem(dir).mkdirs(dir.hadoopPath())) {
            throw new IOException("the file system refused to create " + dir);
        }
    }

    public InputStream open(Location file) throws IOException {
        return fileSystem(file).open(file.hadoopPath());
    }

    /** Creates or replaces {@code file} (parents as needed). */
    public OutputStream create(Location file) throws IOException {
        return fileSystem(file).create(file.hadoopPath(), true);
    }

    public String readString(Location file) {
        return new String(readBytes(file), StandardCharsets.UTF_8);
    }

    /** A small file's bytes (a lock, a manifest, a report file). */
    public byte[] readBytes(Location file) {
        try (InputStream in = open(file)) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw failure("cannot read", file, e);
        }
    }

    public void writeString(Location file, String content) {
        try (OutputStream out = create(file)) {
            out.write(content.getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw failure("cannot write", file, e);
        }
    }

    /** Copies a local file to {@code target}, replacing it. */
    public void upload(java.nio.file.Path local, Location target) {
        try (OutputStream out = create(target)) {
            java.nio.file.Files.copy(local, out);
        } catch (IOException e) {
            throw failure("cannot write", target, e);
        }
    }

    /** Copies {@code source} (any location) to a local file, replacing it. */
    public void download(Location source, java.nio.file.Path local) {
        try (InputStream in = open(source)) {
            java.nio.file.Files.copy(in, local, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw failure("cannot copy", source, e);
        }
    }

    /**
     * Moves {@code source} to {@code target}, replacing a file there: one atomic rename on a
     * local disk and on HDFS; on an object store a copy then a delete (each object appears whole).
     */
    public void replace(Location source, Location target) {
        try {
            if (kind(target) == Kind.LOCAL) {
                // RawLocalFileSystem renames with File.renameTo, a POSIX rename, which replaces atomically.
                if (!fileSystem(target).rename(source.hadoopPath(), target.hadoopPath())) {
                    throw new IOException("rename returned false");
                }
            } else {
                FileContext.getFileContext(target.hadoopPath().toUri(), conf)
                        .rename(source.hadoopPath(), target.hadoopPath(), Options.Rename.OVERWRITE);
            }
        } catch (IOException e) {
            throw failure("cannot move " + source + " to", target, e);
        }
    }

    /** Deletes a file or a whole directory; true if something was deleted. */
    public boolean delete(Location location) {
        try {
            return fileSystem(location).delete(location.hadoopPath(), true);
        } catch (FileNotFoundException e) {
            return false;
        } catch (IOException e) {
            throw failure("cannot delete", location, e);
        }
    }

    /** Deletes {@code dir} if it is an empty directory. */
    public void deleteIfEmpty(Location dir) {
        try {
            FileSystem fs = fileSystem(dir);
            if (fs.exists(dir.hadoopPath()) && fs.listStatus(dir.hadoopPath()).length == 0) {
                fs.delete(dir.hadoopPath(), false);
            }
        } catch (IOException ignored) {
            // a directory that cannot be listed or removed stays; it holds nothing of ours
        }
    }

    /** One clear error for an I/O failure on {@code location}: what was being done, and why it failed, in words. */
    public static InvalidInputException failure(String doing, Location location, IOException e) {
        return new InvalidInputException(doing + " " + location + ": " + reason(e, location), e);
    }

    /** Why an I/O call failed, in words, with what to do where that is known. */
    public static String reason(IOException e, Location location) {
        Throwable cause = e;
        while (cause != null) {
            if (cause instanceof ConnectException || cause instanceof NoRouteToHostException || cause instanceof SocketTimeoutException) {
                return "cannot reach its file system (" + firstLine(cause) + "); check that the host and port are right and the "
                        + (location.scheme().equals("hdfs") ? "NameNode" : "service") + " is running";
            }
            if (cause instanceof UnknownHostException) {
                return "unknown host " + cause.getMessage() + "; check the URI";
            }
            if (cause instanceof AccessControlException || cause instanceof java.nio.file.AccessDeniedException) {
                return "permission denied (" + firstLine(cause) + ")";
            }
            if (cause.getClass().getName().equals("org.apache.hadoop.fs.s3a.UnknownStoreException")) { // hadoop-aws is the cluster's, not a dependency
                return "bucket " + location.authority() + " does not exist; create it, or check the bucket's name and the endpoint";
            }
            if (cause instanceof ParentNotDirectoryException) {
                return "a file is in the way of a directory (" + firstLine(cause) + ")";
            }
            if (cause instanceof FileNotFoundException) {
                return "no such file or directory";
            }
            cause = cause.getCause();
        }
        return e instanceof java.nio.file.FileSystemException ? org.sparsetransfer.core.IoErrors.describe(e) : firstLine(e);
    }

    private static String firstLine(Throwable e) {
        String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        int newline = message.indexOf('\n');
        return newline < 0 ? message : message.substring(0, newline);
    }
}
