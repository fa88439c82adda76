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

    public Path reportDir() {
        return root.resolve("report");
    }

    private String table(String name) {
        return root.resolve(name).toString();
    }
}
