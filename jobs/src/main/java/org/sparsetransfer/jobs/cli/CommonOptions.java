package org.sparsetransfer.jobs.cli;

import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Option;

/** Options every stage command takes. */
public final class CommonOptions {
    @Option(names = "--config", paramLabel = "FILE",
            description = "Experiment config (YAML): a local path, or a URI such as hdfs://namenode:8020/conf/x.yaml."
                    + " Default: the embedded demo experiment (conf/demo.yaml).")
    String config;

    @Option(names = "--out", paramLabel = "DIR", defaultValue = "sparse-transfer-out",
            description = "Warehouse root: the Delta tables and report/; a local path, or a URI such as hdfs://namenode:8020/wh"
                    + " or s3a://bucket/wh. Default: ${DEFAULT-VALUE}.")
    String out;

    @Option(names = "--master", paramLabel = "URL",
            description = "Spark master (local[*], spark://host:7077, yarn, k8s://...). Default: the one spark-submit set, else local[*].")
    String master;

    @Option(names = "--conf", paramLabel = "KEY=VALUE", description = "Extra Spark property; repeatable.")
    Map<String, String> sparkConf = new LinkedHashMap<>();
}
