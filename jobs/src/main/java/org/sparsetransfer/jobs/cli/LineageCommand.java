package org.sparsetransfer.jobs.cli;

import static org.apache.spark.sql.functions.abs;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.isnan;
import static org.apache.spark.sql.functions.not;
import static org.apache.spark.sql.functions.lit;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.sparsetransfer.core.InvalidInputException;
import org.sparsetransfer.core.config.ConfigLoader;
import org.sparsetransfer.core.config.ExperimentConfig;
import org.sparsetransfer.core.config.ExperimentIds;
import org.sparsetransfer.core.method.PruningMethod;
import org.sparsetransfer.core.method.PruningMethods;
import org.sparsetransfer.jobs.spark.SparkSessions;
import org.sparsetransfer.jobs.tables.CheckpointTable;
import org.sparsetransfer.jobs.tables.DeltaTables;
import org.sparsetransfer.jobs.storage.Storage;
import org.sparsetransfer.jobs.tables.Warehouse;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Prints a checkpoint's chain of parents, from the dense model trained from its seeded init. */
@Command(name = "lineage", mixinStandardHelpOptions = true,
        description = "Print the chain from the dense model (trained from the seeded init) to a checkpoint: "
                + "id, method, stage, target and actual sparsity, upstream accuracy, training steps.")
public final class LineageCommand implements Callable<Integer> {
    @Mixin
    WarehouseOptions warehouseOptions;

    @Option(names = "--checkpoint", paramLabel = "ID", description = "The checkpoint's id.")
    String checkpoint;

    @Option(names = "--method", paramLabel = "M", description = "With --sparsity: the checkpoint of this method...")
    String method;

    @Option(names = "--sparsity", paramLabel = "S", description = "...at this target sparsity.")
    Double sparsity;

    @Option(names = "--config", paramLabel = "FILE", description = "With --method/--sparsity: pick the checkpoint of this "
            + "experiment when the warehouse holds several (a local path or a URI).")
    String config;


    public static void main(String[] args) {
        SparseTransferCli.exit(new LineageCommand(), args);
    }

    @Override
    public Integer call() {
        if ((checkpoint == null) == (method == null || sparsity == null)) {
            throw new InvalidInputException("lineage needs either --checkpoint ID or both --method and --sparsity");
        }
        Warehouse warehouse = Warehouse.parse(warehouseOptions.out);
        // Everything that needs no Spark is checked before it starts (a minute on a cluster).
        PruningMethod named = method == null ? null : PruningMethods.byKey(method, "--method");
        if (named != null && !(sparsity >= 0 && sparsity < 1)) {
            throw new InvalidInputException("--sparsity " + sparsity + " is not a sparsity; give one in [0, 1), e.g. 0.9");
        }
        if (named == PruningMethods.dense() && sparsity != 0) {
            throw new InvalidInputException("--method dense is the dense model, at sparsity 0; give --sparsity 0, or another method");
        }
        org.apache.spark.SparkConf sparkConf = SparkSessions.conf("sparse-transfer lineage", warehouseOptions.master, java.util.Map.of());
        Storage storage = Storage.forSparkConf(sparkConf);
        ExperimentConfig experiment = config == null ? null
                : ConfigLoader.load(new org.sparsetransfer.jobs.storage.HadoopFileSource(storage), config);
        if (experiment != null && named != PruningMethods.dense() && named.targets(experiment).stream().noneMatch(s -> s.equals(sparsity))) {
            throw new InvalidInputException("--sparsity " + sparsity + " is not among the sparsities " + named.targets(experiment)
                    + " of " + config + "; give one of them");
        }
        String configuredId = named != null && experiment != null ? new ExperimentIds(experiment).prunedId(named, sparsity) : null;
        if (!storage.isDirectory(warehouse.root())) {
            throw new InvalidInputException("No warehouse at " + warehouse.root() + " (--out); give the --out of a pipeline run");
        }
        SparkSession spark = SparkSessions.create(sparkConf);
        try {
            if (!DeltaTables.exists(spark, warehouse.checkpoints())) {
                throw new InvalidInputException("No checkpoints table under " + warehouse.root() + "; run a pipeline there first");
            }
            Map<String, Row> byId = new HashMap<>();
            List<Row> rows = DeltaTables.read(spark, warehouse.checkpoints(), CheckpointTable.SCHEMA)
                    .select("id", "parent_id", "method", "stage", "target_sparsity", "actual_sparsity", "upstream_top1", "train_steps")
                    .collectAsList();
            rows.forEach(r -> byId.put(r.getString(0), r));
            String id = checkpoint != null ? checkpoint : configuredId != null ? configuredId : find(spark, warehouse, named);
            if (!byId.containsKey(id)) {
                throw new InvalidInputException("No checkpoint " + id + (configuredId != null ? " (" + method + " at sparsity " + sparsity
                        + " of " + config + ")" : "") + " in " + warehouse.checkpoints() + (configuredId != null
                        ? "; run prune with that config first" : "; list the ids with: SELECT id, method, target_sparsity FROM delta.`"
                        + warehouse.checkpoints() + "`"));
            }
            List<Row> chain = new ArrayList<>();
            for (String at = id; at != null; at = byId.containsKey(at) ? byId.get(at).getString(1) : null) {
                chain.add(0, byId.get(at));
            }
            System.out.println(String.format(Locale.ROOT, "%-34s %-9s %-12s %7s %7s %9s %7s", "id", "method", "stage", "target",
                    "actual", "upstream", "steps"));
            for (Row r : chain) {
                double top1 = r.getDouble(6);
                System.out.println(String.format(Locale.ROOT, "%-34s %-9s %-12s %7.4f %7.4f %9s %7d", r.getString(0), r.getString(2),
                        r.getString(3), r.getDouble(4), r.getDouble(5), Double.isNaN(top1) ? "-" : String.format(Locale.ROOT, "%.2f%%", top1),
                        r.getInt(7)));
            }
        } finally {
            spark.stop();
        }
        return 0;
    }

    private String find(SparkSession spark, Warehouse warehouse, PruningMethod m) {
        List<Row> matches = DeltaTables.read(spark, warehouse.checkpoints(), CheckpointTable.SCHEMA)
                .where(col("method").equalTo(lit(m.key())).and(abs(col("target_sparsity").minus(lit(sparsity))).lt(1e-9))
                        .and(not(isnan(col("upstream_top1"))))) // a trained model, not a step of a schedule (a rewind point, a round's mask)
                .select("id").collectAsList();
        if (matches.isEmpty()) {
            throw new InvalidInputException("No " + m.key() + " checkpoint at sparsity " + sparsity + " in " + warehouse.checkpoints()
                    + "; run prune for it, or list the checkpoints with: SELECT id, method, target_sparsity FROM delta.`"
                    + warehouse.checkpoints() + "`");
        }
        if (matches.size() > 1) {
            throw new InvalidInputException("Several " + m.key() + " checkpoints at sparsity " + sparsity + " ("
                    + matches.stream().map(r -> r.getString(0)).toList() + "); pass --checkpoint ID or --config FILE");
        }
        return matches.get(0).getString(0);
    }
}
