package org.sparsetransfer.jobs.cli;

import picocli.CommandLine.Option;

/** The warehouse and the Spark master of the commands that read or write one table outside the stages (lineage, import, export). */
public final class WarehouseOptions {
    @Option(names = "--out", paramLabel = "DIR", defaultValue = "sparse-transfer-out",
            description = "Warehouse root: a local path or a URI such as hdfs://namenode:8020/wh. Default: ${DEFAULT-VALUE}.")
    String out;

    @Option(names = "--master", paramLabel = "URL", description = "Spark master. Default: local[*].")
    String master;
}
