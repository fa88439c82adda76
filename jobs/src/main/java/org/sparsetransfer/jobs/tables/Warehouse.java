package org.sparsetransfer.jobs.tables;

import java.nio.file.Path;

/** The layout under {@code --out}: one directory per Delta table, and {@code report/}. */
public record Warehouse(Path root) {
    public Warehouse {
        root = root.toAbsolutePath().normalize();
    }

    public String datasets() {
        return table("datasets");
    }

    public String checkpoints() {
        return table("checkpoints");
    }

    public String transferResults() {
        return table("transfer_results");
    }

    public String transferTable() {
        return table("transfer_table");
    }

    public String runs() {
        return table("runs");
    }

    /** The tables a run's record tracks, by name. */
    public java.util.Map<String, String> trackedTables() {
        java.util.Map<String, String> tables = new java.util.LinkedHashMap<>();
        tables.put("datasets", datasets());
        tables.put("checkpoints", checkpoints());
        tables.put("transfer_results", transferResults());
        tables.put("transfer_table", transferTable());
        return tables;
    }

    public Path reportDir() {
        return root.resolve("report");
    }

    private String table(String name) {
        return root.resolve(name).toString();
    }
}
