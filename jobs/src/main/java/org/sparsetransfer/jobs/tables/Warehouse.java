package org.sparsetransfer.jobs.tables;

import java.util.LinkedHashMap;
import java.util.Map;
import org.sparsetransfer.jobs.storage.Location;

/**
 * The layout under {@code --out}: one directory per Delta table, and {@code report/}, on any
 * file system Hadoop reaches (a local directory, {@code hdfs://}, {@code s3a://}). Table paths
 * are full URIs, so a plain local {@code --out} stays local on a cluster whose default file
 * system is HDFS.
 */
public record Warehouse(Location root) {
    public static final String DATASETS = "datasets";
    public static final String CHECKPOINTS = "checkpoints";
    public static final String TRANSFER_RESULTS = "transfer_results";
    public static final String TRANSFER_TABLE = "transfer_table";
    public static final String RUNS = "runs";
    public static final String SKIPPED_IMAGES = "skipped_images";
    public static final String TRAINING_STATES = "training_states";

    /**
     * Every table, with the commands that write it: rerunning them with the same config on a
     * warehouse that lacks the table rebuilds the same rows (ids are content hashes).
     */
    private static final Map<String, String> WRITTEN_BY = Map.of(
            DATASETS, "ingest",
            CHECKPOINTS, "upstream and prune (then transfer, whose results name checkpoints by id, keeps its rows)",
            TRANSFER_RESULTS, "transfer",
            TRANSFER_TABLE, "report",
            RUNS, "any command (the table only records past runs; report --as-of-run needs it)",
            SKIPPED_IMAGES, "ingest (after deleting the datasets rows of the image datasets, so that they are decoded again)");

    /** The warehouse a user names with {@code --out}. */
    public static Warehouse parse(String out) {
        return new Warehouse(Location.parse(out, "--out"));
    }

    /** A warehouse in a local directory. */
    public Warehouse(java.nio.file.Path local) {
        this(Location.local(local));
    }

    public String datasets() {
        return table(DATASETS);
    }

    public String checkpoints() {
        return table(CHECKPOINTS);
    }

    public String transferResults() {
        return table(TRANSFER_RESULTS);
    }

    public String transferTable() {
        return table(TRANSFER_TABLE);
    }

    public String runs() {
        return table(RUNS);
    }

    /** The image files ingest left out of image datasets (undecodable, too small), with the reason. */
    public String skippedImages() {
        return table(SKIPPED_IMAGES);
    }

    /** The tables a run's record tracks, by name. */
    public Map<String, String> trackedTables() {
        Map<String, String> tables = new LinkedHashMap<>();
        tables.put(DATASETS, datasets());
        tables.put(CHECKPOINTS, checkpoints());
        tables.put(TRANSFER_RESULTS, transferResults());
        tables.put(TRANSFER_TABLE, transferTable());
        return tables;
    }

    /** The saved states of long trainings in progress ({@link TrainingStates}): no table, deleted as trainings are stored. */
    public Location trainingStates() {
        return root.resolve(TRAINING_STATES);
    }

    public Location reportDir() {
        return root.resolve("report");
    }

    /**
     * How to rebuild the table named {@code table} (the name of its directory) when its files are
     * damaged beyond reading, or null for a directory that is no table of a warehouse.
     */
    public static String rebuildHint(String table, String tablePath) {
        String commands = WRITTEN_BY.get(table);
        if (commands == null) {
            return null;
        }
        return "restore it from a backup, or rebuild the table: move " + tablePath + " aside and rerun " + commands
                + " with the same config and --out";
    }

    private String table(String name) {
        return root.resolve(name).uri();
    }
}
