package org.sparsetransfer.jobs.tables;

import java.io.FileNotFoundException;
import java.net.URI;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.hadoop.fs.ChecksumException;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.io.ParquetDecodingException;
import org.apache.spark.SparkThrowable;
import org.sparsetransfer.core.InvalidInputException;
import org.sparsetransfer.jobs.storage.Location;

/**
 * Stored files of a warehouse that cannot be read as they were written (a data file whose
 * Hadoop checksum or Parquet structure is broken, a data file or Delta log entry that is
 * missing), each turned into one clear error that names the table, the file and the fix. The
 * readers of Spark, Parquet, Hadoop and Delta report these as exceptions deep in a stack trace,
 * often without naming the table.
 */
public final class StorageFaults {
    private static final Pattern CHECKSUM_FILE = Pattern.compile("Checksum error: (\\S+) at \\d+");
    /** Delta's errors for a log that lost entries or holds one it cannot read. */
    private static final Set<String> BROKEN_LOG = Set.of("DELTA_VERSIONS_NOT_CONTIGUOUS", "DELTA_STATE_RECOVER_ERROR",
            "DELTA_MISSING_PART_FILES", "DELTA_TRUNCATED_TRANSACTION_LOG", "DELTA_TXN_LOG_FAILED_INTEGRITY",
            "DELTA_CHECKPOINT_NON_EXIST_TABLE", "DELTA_UNRECOGNIZED_LOGFILE");

    private StorageFaults() {}

    /**
     * The stored-file fault that {@code failure} (or one of its causes) reports, as one clear
     * error; null when it reports something else.
     */
    public static InvalidInputException explain(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof ChecksumException) {
                Matcher m = CHECKSUM_FILE.matcher(String.valueOf(t.getMessage()));
                if (m.find()) {
                    return damaged(m.group(1), "its bytes do not match its Hadoop checksum (the .crc file beside it)", failure);
                }
            }
        }
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof SparkThrowable s && s.getCondition() != null && s.getCondition().startsWith("FAILED_READ_FILE")) {
                Map<String, String> parameters = s.getMessageParameters();
                String file = parameters == null ? null : parameters.get("path");
                if (file != null) {
                    return missingOrDamaged(file, t.getCause() == null ? t : t.getCause(), failure);
                }
            }
        }
        return null;
    }

    /**
     * The bad input {@code failure} reports: a problem with something the user supplied
     * ({@link InvalidInputException} anywhere in its causes), or a damaged stored file; null for
     * any other failure (a bug, or the machine).
     */
    public static InvalidInputException asBadInput(Throwable failure) {
        InvalidInputException bad = InvalidInputException.find(failure);
        return bad != null ? bad : explain(failure);
    }

    /** A data file that a reader failed on (called where the file is known, e.g. an executor reading a table's files). */
    public static InvalidInputException unreadable(String file, Throwable cause) {
        return missingOrDamaged(file, cause, cause);
    }

    /**
     * {@code failure} as one clear error if it is Delta failing on the log of the table at
     * {@code tablePath} (an entry lost or unreadable) or on a damaged file; otherwise null.
     */
    static InvalidInputException explainLog(String tablePath, Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            boolean brokenLog = t instanceof SparkThrowable s && s.getCondition() != null && BROKEN_LOG.contains(s.getCondition())
                    // a checkpoint without its commit file: Delta says so with no error class
                    || t instanceof IllegalStateException && String.valueOf(t.getMessage()).startsWith("Could not find any delta files");
            if (brokenLog) {
                String table = new Path(tablePath).getName();
                String hint = Warehouse.rebuildHint(table, Location.display(tablePath));
                return new InvalidInputException("The Delta log of table " + table + " (" + Location.display(new Path(tablePath, "_delta_log").toString())
                        + ") is damaged: " + firstLine(t.getMessage()) + " Its entries are needed to read the table; "
                        + (hint == null ? "restore them from a backup" : hint), failure);
            }
        }
        return explain(failure);
    }

    private static InvalidInputException missingOrDamaged(String file, Throwable cause, Throwable failure) {
        boolean missing = false;
        for (Throwable t = cause; t != null; t = t.getCause()) {
            missing |= t instanceof FileNotFoundException;
        }
        if (missing) {
            return damaged(file, "it is missing, though the table's log lists it (the file was deleted, or the log entry naming "
                    + "it is damaged)", failure);
        }
        String why = cause instanceof ParquetDecodingException || String.valueOf(cause.getMessage()).contains("Parquet")
                ? "it is not a readable Parquet file (" + firstLine(cause.getMessage()) + ")"
                : "reading it failed (" + cause.getClass().getSimpleName() + ": " + firstLine(cause.getMessage()) + ")";
        return damaged(file, why, failure);
    }

    private static InvalidInputException damaged(String file, String why, Throwable failure) {
        Path table = tableOf(file);
        String name = table == null ? null : table.getName();
        String hint = name == null ? null : Warehouse.rebuildHint(name, Location.display(table.toString()));
        return new InvalidInputException("Stored file " + Location.display(file) + (name == null ? "" : " of table " + name) + " is damaged: "
                + why + "; " + (hint == null ? "restore it from a backup" : hint), failure);
    }

    /** The Delta table a stored file belongs to: above {@code _delta_log/} and partition folders ({@code column=value}). */
    static Path tableOf(String file) {
        Path p;
        try {
            p = new Path(URI.create(file));
        } catch (IllegalArgumentException notAUri) {
            p = new Path(file);
        }
        for (Path dir = p.getParent(); dir != null; dir = dir.getParent()) {
            if (!dir.getName().equals("_delta_log") && !dir.getName().contains("=")) {
                return dir;
            }
        }
        return null;
    }

    private static String firstLine(String message) {
        String m = String.valueOf(message).strip();
        int eol = m.indexOf('\n');
        return eol < 0 ? m : m.substring(0, eol).strip();
    }
}
