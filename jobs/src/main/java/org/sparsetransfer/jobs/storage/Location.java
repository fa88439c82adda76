package org.sparsetransfer.jobs.storage;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.InvalidPathException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.hadoop.fs.Path;
import org.sparsetransfer.core.InvalidInputException;

/**
 * A file or directory a user names: a plain local path, or a Hadoop URI ({@code hdfs://},
 * {@code s3a://}, {@code file:}, any scheme Hadoop has a file system for). A plain path keeps
 * meaning local, even on a cluster whose default file system is HDFS: it becomes a {@code file:}
 * location, so a warehouse is never split between two file systems. Locations are absolute and
 * normalized; {@link #toString()} is the form Hadoop, Spark and Delta take as a path string.
 */
public final class Location {
    /** A scheme of two characters or more ("C:" would be a drive letter, not a scheme). */
    private static final Pattern WITH_SCHEME = Pattern.compile("([A-Za-z][A-Za-z0-9+.-]+):(.*)", Pattern.DOTALL);

    private final String scheme;
    /** Host and port, or null (a local path, or a URI that uses its scheme's default file system). */
    private final String authority;
    /** Absolute, normalized, without a trailing slash except for the root. */
    private final String path;

    private Location(String scheme, String authority, String path) {
        this.scheme = scheme;
        this.authority = authority;
        this.path = path;
    }

    /**
     * Parses what the user gave for {@code option} (e.g. "--out"): a plain path, resolved against
     * the working directory, or a URI with a scheme, whose path must be absolute.
     */
    public static Location parse(String text, String option) {
        if (text == null || text.isBlank()) {
            throw new InvalidInputException(option + " is empty; give a directory, e.g. " + option + " sparse-transfer-out, or a URI"
                    + " such as hdfs://namenode:8020/wh");
        }
        Matcher m = WITH_SCHEME.matcher(text);
        if (!m.matches()) {
            try {
                return local(java.nio.file.Path.of(text));
            } catch (InvalidPathException e) {
                throw new InvalidInputException(option + " " + text + " is not a valid path: " + e.getReason());
            }
        }
        String scheme = m.group(1).toLowerCase(Locale.ROOT);
        String rest = m.group(2);
        String authority = null;
        if (rest.startsWith("//")) {
            int slash = rest.indexOf('/', 2);
            authority = slash < 0 ? rest.substring(2) : rest.substring(2, slash);
            rest = slash < 0 ? "/" : rest.substring(slash);
            if (authority.isEmpty()) {
                authority = null; // hdfs:///dir: the default NameNode; file:///dir: local
            }
        }
        if (authority != null && authority.contains("@")) {
            // It would be printed in every log line and stored in the runs table.
            throw new InvalidInputException(option + ": a URI with credentials in it (user:secret@host) is refused, since locations "
                    + "are logged and recorded; give the credentials as Hadoop properties, e.g. --conf spark.hadoop.fs.s3a.access.key=..."
                    + " and --conf spark.hadoop.fs.s3a.secret.key=..., or through the cluster's credential provider");
        }
        if (!rest.startsWith("/")) {
            throw new InvalidInputException(option + " " + text + " has a relative path after its scheme; give an absolute one, e.g. "
                    + scheme + ":" + (authority == null ? "" : "//" + authority) + "/" + rest
                    + (scheme.equals("file") ? ", or a plain path (relative paths are local)" : ""));
        }
        if (scheme.equals("file") && authority != null && !authority.equals("localhost")) {
            throw new InvalidInputException(option + " " + text + " names host " + authority + " in a file: URI; a file: URI is local"
                    + " (file:/dir or file:///dir)");
        }
        return new Location(scheme, scheme.equals("file") ? null : authority, normalize(rest, option, text));
    }

    /** A local file or directory. */
    public static Location local(java.nio.file.Path path) {
        return new Location("file", null, path.toAbsolutePath().normalize().toString());
    }

    private static String normalize(String path, String option, String text) {
        String normalized;
        try {
            // The multi-argument constructor quotes what a URI may not hold (spaces, %), so any path parses.
            normalized = new URI(null, null, path, null).normalize().getPath();
        } catch (URISyntaxException e) {
            throw new InvalidInputException(option + " " + text + " is not a valid path: " + e.getReason());
        }
        if (normalized.startsWith("/..")) {
            throw new InvalidInputException(option + " " + text + " goes above the root of its file system (..)");
        }
        normalized = normalized.replaceAll("/{2,}", "/");
        return normalized.length() > 1 && normalized.endsWith("/") ? normalized.substring(0, normalized.length() - 1) : normalized;
    }

    /** The location {@code relative} (names separated by '/') below this one. */
    public Location resolve(String relative) {
        if (relative.isEmpty() || relative.startsWith("/") || java.util.Arrays.asList(relative.split("/")).contains("..")) {
            throw new IllegalArgumentException("not a relative name below a location: " + relative);
        }
        return new Location(scheme, authority, (path.equals("/") ? "" : path) + "/" + relative);
    }

    /** The directory holding this location, or null for a file system's root. */
    public Location parent() {
        if (path.equals("/")) {
            return null;
        }
        int slash = path.lastIndexOf('/');
        return new Location(scheme, authority, slash == 0 ? "/" : path.substring(0, slash));
    }

    /** The last name of the path ("" for a root). */
    public String name() {
        return path.substring(path.lastIndexOf('/') + 1);
    }

    public String scheme() {
        return scheme;
    }

    /** The host (and port) or bucket after the scheme; "" where there is none. */
    public String authority() {
        return authority == null ? "" : authority;
    }

    /** Whether this is a file on the local file system of the machine that uses it. */
    public boolean isLocal() {
        return scheme.equals("file");
    }

    /** The local path; only for {@link #isLocal()} locations. */
    public java.nio.file.Path localPath() {
        if (!isLocal()) {
            throw new IllegalStateException(this + " is not local");
        }
        return java.nio.file.Path.of(path);
    }

    /** As Hadoop's path type, for its FileSystem calls. */
    public Path hadoopPath() {
        return new Path(scheme, authority, path);
    }

    /** The form Hadoop, Spark and Delta take as a path string, e.g. {@code file:/data/wh}, {@code hdfs://nn:8020/wh}. */
    public String uri() {
        return scheme + ":" + (authority == null ? "" : "//" + authority) + path;
    }

    /**
     * For messages: a path string from Hadoop, Spark or Delta ({@code file:/wh/x}, {@code hdfs://nn/wh/x})
     * as {@link #toString()} shows a location: local paths without their scheme.
     */
    public static String display(String pathOrUri) {
        Path p = new Path(pathOrUri);
        String scheme = p.toUri().getScheme();
        return scheme == null || scheme.equals("file") ? p.toUri().getPath() : p.toString();
    }

    /** For messages: a local path as the user would type it, any other location as its URI. */
    @Override
    public String toString() {
        return isLocal() ? path : uri();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Location l && l.uri().equals(uri());
    }

    @Override
    public int hashCode() {
        return uri().hashCode();
    }
}
