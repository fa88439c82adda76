package org.sparsetransfer.jobs.spark;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import org.apache.spark.SparkConf;
import java.util.regex.Pattern;
import org.apache.spark.sql.SparkSession;
import org.sparsetransfer.core.InvalidInputException;

/** The one way the jobs build a SparkSession: Delta Lake, Kryo with the project's registrator. */
public final class SparkSessions {
    public static final String DEFAULT_MASTER = "local[*]";

    private SparkSessions() {}

    /**
     * @param master the Spark master, or null to keep the one spark-submit set (local[*] if none)
     */
    public static SparkSession create(String appName, String master) {
        return create(appName, master, java.util.Map.of());
    }

    /** As {@link #create(String, String)}, with {@code properties} (a command's {@code --conf} settings). */
    public static SparkSession create(String appName, String master, java.util.Map<String, String> properties) {
        return create(conf(appName, master, properties));
    }

    /**
     * The conf a command's session runs with: {@code properties} (its {@code --conf} settings) over
     * spark-defaults and system properties (they are not made system properties, which would
     * outlive the session), then the project's defaults. Spark SQL's catalog directory (unused:
     * every table is addressed by its path) goes to a temporary directory, or Spark would create a
     * {@code spark-warehouse/} wherever the user ran from. Built before the session so that the
     * warehouse's file system can be reached (and locked) with the same Hadoop settings first.
     *
     * @param master the Spark master, or null to keep the one spark-submit set (local[*] if none)
     */
    public static SparkConf conf(String appName, String master, java.util.Map<String, String> properties) {
        checkMaster(master);
        checkProperties(properties);
        SparkConf conf = new SparkConf(true);
        properties.forEach(conf::set);
        if (master != null) {
            conf.setMaster(master);
        } else if (!conf.contains("spark.master")) {
            conf.setMaster(DEFAULT_MASTER);
        }
        if (!conf.contains("spark.sql.warehouse.dir")) {
            conf.set("spark.sql.warehouse.dir", catalogDir().toUri().toString());
        }
        conf.setIfMissing("spark.app.name", appName)
                .setIfMissing("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension")
                .setIfMissing("spark.sql.catalog.spark_catalog", "org.apache.spark.sql.delta.catalog.DeltaCatalog")
                .setIfMissing("spark.serializer", "org.apache.spark.serializer.KryoSerializer")
                .setIfMissing("spark.kryo.registrator", KryoRegistrator.class.getName())
                .setIfMissing("spark.kryoserializer.buffer.max", "512m")
                // Tables here are small; the default of 200 shuffle partitions only adds overhead.
                .setIfMissing("spark.sql.shuffle.partitions", "4")
                .setIfMissing("spark.databricks.delta.snapshotPartitions", "2")
                .setIfMissing("spark.ui.showConsoleProgress", "false")
                // Training jobs fill every task slot for minutes; FAIR pools let the driver's
                // small Delta writes (their own pool) take the next free slot instead of queueing
                // behind all of a stage's training tasks.
                .setIfMissing("spark.scheduler.mode", "FAIR");
        if (!conf.contains("spark.scheduler.allocation.file")) {
            conf.set("spark.scheduler.allocation.file", schedulerPools().toUri().toString());
        }
        checkMaster(conf.get("spark.master"), "spark.master"); // also one from --conf spark.master= or spark-defaults
        return conf;
    }

    /** The session for {@code conf} (from {@link #conf}). */
    public static SparkSession create(SparkConf conf) {
        boolean running = activeContext().isDefined();
        try {
            SparkSession session = SparkSession.builder().config(conf).getOrCreate();
            session.conf().getAll(); // builds the session state now, so that an SQL setting it refuses is refused here
            return session;
        } catch (Exception e) { // SparkContext's constructor throws checked exceptions too
            if (!running) {
                // A context that started for a session Spark then refused would be reused, with its settings, by the next one.
                activeContext().foreach(context -> {
                    context.stop();
                    return null;
                });
            }
            InvalidInputException refused = refusedSetting(e);
            if (refused != null) {
                throw refused;
            }
            throw sneaky(e);
        }
    }

    /** Spark refusing a setting as it starts (a value of the wrong type, a master it cannot parse), as one clear error; else null. */
    private static InvalidInputException refusedSetting(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            String message = String.valueOf(t.getMessage());
            if (t instanceof IllegalArgumentException && (t.getCause() == null || !(t.getCause() instanceof IllegalArgumentException))
                    || message.startsWith("Could not parse Master URL")) {
                return new InvalidInputException("Spark did not start with these settings: " + message.strip().replace('\n', ' ')
                        + "; check --master, --conf and spark-defaults.conf", e);
            }
        }
        return null;
    }

    /** The running SparkContext, if any (Spark's own accessor: Scala's package-private members are public to Java). */
    private static scala.Option<org.apache.spark.SparkContext> activeContext() {
        return org.apache.spark.SparkContext$.MODULE$.getActive();
    }

    @SuppressWarnings("unchecked")
    private static <E extends Exception> E sneaky(Exception e) throws E {
        throw (E) e;
    }

    /** Refuses a {@code --conf} that is not a Spark property: Spark would ignore it without a word. */
    public static void checkProperties(java.util.Map<String, String> properties) {
        for (String key : properties.keySet()) {
            if (!key.startsWith("spark.")) {
                throw new InvalidInputException("--conf " + key + " is not a Spark property (they start with spark., e.g. "
                        + "--conf spark.executor.memory=8g)");
            }
        }
    }

    /** Master URLs Spark itself understands (SparkContext's forms; Mesos is gone since Spark 4). */
    private static final Pattern MASTER = Pattern.compile("local(\\[(\\d+|\\*)(\\s*,\\s*\\d+)?])?"
            + "|local-cluster\\[\\s*\\d+\\s*,\\s*\\d+\\s*,\\s*\\d+\\s*]"
            + "|spark://[^/\\s:,]+(:\\d+)?(,[^/\\s:,]+(:\\d+)?)*|yarn|k8s://\\S+");

    /**
     * Refuses a master URL Spark would not understand, before Spark starts (Spark's own error is
     * a stack trace after a minute of start-up); null (keep spark-submit's) passes.
     */
    public static void checkMaster(String master) {
        checkMaster(master, "--master");
    }

    /** As {@link #checkMaster(String)}, naming where the master came from ({@code where}, e.g. spark.master). */
    public static void checkMaster(String master, String where) {
        if (master != null && !MASTER.matcher(master.strip()).matches()) {
            throw new InvalidInputException(where + " " + (master.isBlank() ? "\"\"" : master) + " is not a Spark master URL; "
                    + "expected local, local[N], local[*], local[N,F], local-cluster[N,C,M], spark://HOST:PORT, yarn or "
                    + "k8s://https://HOST:PORT");
        }
    }

    private static Path catalogDir() {
        try {
            Path dir = Files.createTempDirectory("sparse-transfer-catalog");
            dir.toFile().deleteOnExit();
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot create a temporary directory for Spark's catalog", e);
        }
    }

    /**
     * The pools of {@code sparse-transfer/fairscheduler.xml} as a file: Spark looks for a default
     * fairscheduler.xml with its own class loader, which under spark-submit does not see the
     * application jar.
     */
    private static Path schedulerPools() {
        try (InputStream pools = SparkSessions.class.getResourceAsStream("/sparse-transfer/fairscheduler.xml")) {
            if (pools == null) {
                throw new IllegalStateException("sparse-transfer/fairscheduler.xml is missing from the application's classpath");
            }
            Path file = Files.createTempFile("sparse-transfer-pools", ".xml");
            file.toFile().deleteOnExit();
            Files.copy(pools, file, StandardCopyOption.REPLACE_EXISTING);
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot write the scheduler pools file", e);
        }
    }
}
