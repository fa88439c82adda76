package org.sparsetransfer.jobs.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.sparsetransfer.core.config.ConfigLoader;
import org.sparsetransfer.core.config.ExperimentConfig;
import org.sparsetransfer.core.method.PruningMethod;
import org.sparsetransfer.core.method.PruningMethods;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.FileUtil;
import org.apache.spark.sql.Row;
import org.sparsetransfer.jobs.tables.Warehouse;
import org.sparsetransfer.jobs.storage.Location;
import org.sparsetransfer.jobs.storage.Storage;

/**
 * The tiny experiment (at one of its sparsities) submitted with deploy/spark-submit.sh (org.apache.spark.deploy.SparkSubmit,
 * client mode, the application jar) to a standalone cluster that deploy/standalone starts from the
 * Maven jars: a master and two one-core workers on 127.0.0.1, with the warehouse on a real HDFS
 * that deploy/hdfs starts (so executors read checkpoints and datasets from HDFS, and the locks
 * and report files live there too). Submitted first as the Airflow DAG runs it (ingest, upstream,
 * prune applications of two methods at once on one warehouse), then as one pipeline application
 * that finishes the remaining methods, the transfer grid and the report, losing an executor to
 * SIGKILL midway; its results are compared with an uninterrupted transfer stage's. Then the
 * pipeline once more (in a local process), which finds every stage done.
 */
@Tag("slow")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class StandaloneClusterIT {
    private static final Path ROOT = Path.of("").toAbsolutePath().getParent();
    /** The tiny experiment at one sparsity: every method, task, regime and seed, at a third of the trainings. */
    private Path config;
    private static final Pattern EXECUTOR_PID = Pattern.compile("Started daemon with process name: (\\d+)@");

    private Path work;
    private Path clusterDir;
    /** The drivers' working directory: nothing may be written there, the warehouse being on HDFS. */
    private Path driverDir;
    private LoopbackHdfs hdfs;
    private String out;
    private String masterUrl;
    private long killedExecutor;
    private final List<Process> drivers = new ArrayList<>();
    private final Set<Long> driverPids = ConcurrentHashMap.newKeySet();
    private final Set<String> publicListeners = ConcurrentHashMap.newKeySet();
    private final Set<Long> watchedPids = ConcurrentHashMap.newKeySet();

    @BeforeAll
    void startCluster() throws Exception {
        work = Files.createTempDirectory("standalone-it");
        clusterDir = work.resolve("cluster");
        driverDir = Files.createDirectories(work.resolve("driver-cwd"));
        config = TinyAtOneSparsity.write(work);
        hdfs = LoopbackHdfs.start(work.resolve("hdfs"));
        out = hdfs.uri() + "/experiments/tiny";
        int masterPort = freePort();
        Map<String, String> env = Map.of("CLUSTER_DIR", clusterDir.toString(), "MASTER_PORT", String.valueOf(masterPort),
                "MASTER_WEBUI_PORT", String.valueOf(freePort()));
        run("start-cluster", env, 120, "bash", ROOT.resolve("deploy/standalone/start-cluster.sh").toString(), "2", "1", "2g");
        masterUrl = Files.readString(clusterDir.resolve("master-url")).strip();
        assertEquals("spark://127.0.0.1:" + masterPort, masterUrl);
    }

    @AfterAll
    void stopCluster() throws Exception {
        drivers.forEach(Process::destroyForcibly);
        List<Long> daemons = daemonPids();
        run("stop-cluster", Map.of("CLUSTER_DIR", clusterDir.toString()), 60,
                "bash", ROOT.resolve("deploy/standalone/stop-cluster.sh").toString());
        for (long pid : daemons) {
            assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "daemon " + pid + " still runs");
        }
        if (hdfs != null) {
            hdfs.close();
        }
        org.apache.commons.io.FileUtils.deleteQuietly(work.toFile());
    }

    @Test
    void tinyExperimentOnTwoWorkers() throws Exception {
        ExperimentConfig config = ConfigLoader.load(this.config);
        ScheduledExecutorService watcher = Executors.newSingleThreadScheduledExecutor();
        watcher.scheduleWithFixedDelay(this::recordPublicListeners, 0, 300, TimeUnit.MILLISECONDS);
        try {
            submit("ingest", "");
            submit("upstream", "");
            // Two prune applications of different methods at once on the warehouse, one core each
            // (as the DAG's parallel prune tasks), then the pipeline finishes the rest with both workers.
            List<Process> prunes = new ArrayList<>();
            for (PruningMethod method : List.of(PruningMethods.byKey("oneshot", "test"), PruningMethods.byKey("gmp", "test"))) {
                prunes.add(start("prune-" + method.key(), "--conf spark.cores.max=1", "prune", "--method", method.key()));
            }
            awaitSuccess(prunes.get(0), "prune-" + PruningMethods.byKey("oneshot", "test").key());
            awaitSuccess(prunes.get(1), "prune-" + PruningMethods.byKey("gmp", "test").key());
            // The pipeline loses an executor (SIGKILL) in the middle of its transfer stage and finishes on the rest.
            Process pipeline = start("pipeline", "", "pipeline");
            killedExecutor = killAnExecutorWhenLogged("pipeline", Pattern.compile("\\[transfer\\] 10/\\d+ stored: "));
            awaitSuccess(pipeline, "pipeline");
            assertTrue(Files.readString(clusterDir.resolve("logs/pipeline.log")).contains("Lost executor"),
                    "the driver saw its executor die mid-stage");
        } finally {
            watcher.shutdownNow();
        }

        // Exactly one result row per run, each one a success, though an executor died mid-stage.
        assertFalse(ProcessHandle.of(killedExecutor).map(ProcessHandle::isAlive).orElse(false), "executor " + killedExecutor + " was killed");
        long runs = TinyAtOneSparsity.transferRuns(config);
        org.apache.spark.sql.SparkSession reader = org.sparsetransfer.jobs.spark.SparkSessions.create("test", "local[1]");
        try {
            org.apache.spark.sql.Dataset<org.apache.spark.sql.Row> results = reader.read().format("delta")
                    .load(org.sparsetransfer.jobs.tables.Warehouse.parse(out).transferResults());
            TinyAtOneSparsity.assertOneSuccessPerRun(results, config);
            // And the same values as an uninterrupted run: the grid again on a copy of the warehouse's
            // datasets and checkpoints, in one local process that trains on one thread as each executor does.
            Warehouse reference = uninterruptedTransfer(reader.sparkContext().hadoopConfiguration());
            List<String> compared = new ArrayList<>(List.of(results.columns()));
            compared.removeAll(RESULT_COLUMNS_OF_THE_RUN); // when and how long, not what
            // Binary columns (a run's test predictions) as hex: a row's text names a byte array by its identity, not its bytes.
            org.apache.spark.sql.types.StructType schema = results.schema();
            org.apache.spark.sql.Column[] columns = compared.stream()
                    .map(name -> schema.apply(name).dataType() instanceof org.apache.spark.sql.types.BinaryType
                            ? org.apache.spark.sql.functions.hex(org.apache.spark.sql.functions.col(name)).as(name)
                            : org.apache.spark.sql.functions.col(name))
                    .toArray(org.apache.spark.sql.Column[]::new);
            List<String> afterTheKill = results.select(columns).collectAsList().stream().map(Row::toString).sorted().toList();
            List<String> uninterrupted = reader.read().format("delta").load(reference.transferResults()).select(columns)
                    .collectAsList().stream().map(Row::toString).sorted().toList();
            assertEquals(runs, uninterrupted.size());
            assertEquals(uninterrupted, afterTheKill, "the results of the stage that lost an executor equal an uninterrupted run's");
        } finally {
            reader.stop();
        }

        // The report, read back from HDFS: every method x sparsity x regime x task, all with a mean.
        Storage storage = new Storage(new Configuration());
        TinyAtOneSparsity.assertCompleteReport(storage, out, config);
        // The rerun found every stage done.
        // (in a local process: a submitted application would spend over a minute starting executors for nothing)
        TinyAtOneSparsity.assertRerunSkipsEverything(org.sparsetransfer.jobs.InProcessCli.run("pipeline", "--config", this.config.toString(),
                "--out", out, "--master", "local[2]"), config);
        assertEquals(List.of(), listing(driverDir), "nothing was written where the drivers ran");

        // report --local-copy: the report's files on this machine, equal to those on HDFS.
        Location report = Location.parse(out, "--out").resolve("report");
        Path copy = work.resolve("report-copy");
        assertEquals(0, org.sparsetransfer.jobs.cli.SparseTransferCli.execute(new org.sparsetransfer.jobs.cli.SparseTransferCli(),
                "report", "--config", this.config.toString(), "--out", out, "--master", "local[2]", "--local-copy", copy.toString()));
        List<String> published = storage.readString(report.resolve(".report-files")).lines().filter(l -> !l.startsWith("#")).toList();
        assertTrue(published.contains("transfer_table.csv") && published.contains("upstream.png"), published.toString());
        for (String name : published) {
            assertTrue(java.util.Arrays.equals(storage.readBytes(report.resolve(name)), Files.readAllBytes(copy.resolve(name))), name);
        }

        // The training ran in executor JVMs that the workers started, on both workers, not in a driver.
        Set<Long> executorsWithTraining = new HashSet<>();
        for (String worker : List.of("worker-1", "worker-2")) {
            int trainedHere = 0;
            try (Stream<Path> dirs = Files.walk(clusterDir.resolve(worker), 2)) {
                for (Path dir : dirs.filter(d -> Files.exists(d.resolve("stderr"))).toList()) {
                    Matcher m = EXECUTOR_PID.matcher(Files.readString(dir.resolve("stderr")));
                    assertTrue(m.find(), "executor log names its process: " + dir);
                    long pid = Long.parseLong(m.group(1));
                    assertFalse(driverPids.contains(pid), "executor " + pid + " is not a driver");
                    if (Files.readString(dir.resolve("stdout")).matches("(?s).*\\[(prune|upstream|transfer)[^\\]]*\\] .*")) {
                        executorsWithTraining.add(pid);
                        trainedHere++;
                    }
                }
            }
            assertTrue(trainedHere > 0, worker + " ran training tasks");
        }
        assertTrue(executorsWithTraining.size() >= 2, "executor JVMs: " + executorsWithTraining);
        // The application's scheduler pools reached Spark (they live in the jar, which Spark's own loader does not see).
        for (String driver : List.of("ingest", "upstream", "prune-oneshot", "prune-gmp", "pipeline")) {
            String log = Files.readString(clusterDir.resolve("logs/" + driver + ".log"));
            assertFalse(log.contains("which has not been configured"), driver + " ran without the scheduler pools");
        }
        assertTrue(publicListeners.isEmpty(), "sockets listening beyond 127.0.0.1: " + publicListeners);
        assertFalse(watchedPids.isEmpty(), "the socket check saw the cluster's processes");
    }

    /** Result columns that record when and how long a run took, which differ between two runs of the same work. */
    private static final List<String> RESULT_COLUMNS_OF_THE_RUN = List.of("wall_s", "created_at");

    /**
     * The transfer stage, uninterrupted, in one local process (bin/sparse-transfer, one libtorch
     * thread) on a local warehouse holding copies of the cluster warehouse's datasets and checkpoints.
     */
    private Warehouse uninterruptedTransfer(Configuration conf) throws Exception {
        Path local = work.resolve("uninterrupted");
        Warehouse source = Warehouse.parse(out);
        Warehouse copy = Warehouse.parse(local.toString());
        FileSystem hdfsFs = FileSystem.get(java.net.URI.create(out), conf);
        for (String[] table : List.of(new String[] {source.datasets(), copy.datasets()}, new String[] {source.checkpoints(), copy.checkpoints()})) {
            assertTrue(FileUtil.copy(hdfsFs, new org.apache.hadoop.fs.Path(table[0]), FileSystem.getLocal(conf),
                    new org.apache.hadoop.fs.Path(table[1]), false, conf), "copied " + table[0]);
        }
        ProcessBuilder pb = new ProcessBuilder(ROOT.resolve("bin/sparse-transfer").toString(), "transfer", "--config", config.toString(),
                "--out", local.toString(), "--master", "local[1]").redirectErrorStream(true)
                .redirectOutput(clusterDir.resolve("logs/uninterrupted-transfer.log").toFile());
        pb.environment().put("SPARSE_TRANSFER_THREADS", "1");
        long begin = System.nanoTime();
        awaitSuccess(pb.start(), "uninterrupted-transfer");
        System.out.printf("the uninterrupted transfer stage, locally: %.0f s%n", (System.nanoTime() - begin) / 1e9);
        return copy;
    }

    /**
     * Once the driver's log shows {@code line}, kills one live executor JVM of that application
     * with SIGKILL (found through its worker's directory, as an operator would); returns its pid.
     */
    private long killAnExecutorWhenLogged(String name, Pattern line) throws Exception {
        Path log = clusterDir.resolve("logs/" + name + ".log");
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(10);
        while (!(Files.exists(log) && line.matcher(Files.readString(log)).find())) {
            assertTrue(System.nanoTime() < deadline, name + " never logged " + line);
            Thread.sleep(200);
        }
        List<Path> executorDirs = new ArrayList<>();
        for (String worker : List.of("worker-1", "worker-2")) {
            try (Stream<Path> dirs = Files.walk(clusterDir.resolve(worker), 2)) {
                dirs.filter(d -> Files.exists(d.resolve("stderr"))).forEach(executorDirs::add);
            }
        }
        // The newest application is the running pipeline; its executors are the newest directories.
        executorDirs.sort(java.util.Comparator.comparing((Path d) -> d.getParent().getFileName().toString()).reversed());
        String app = executorDirs.get(0).getParent().getFileName().toString();
        for (Path dir : executorDirs) {
            Matcher m = EXECUTOR_PID.matcher(Files.readString(dir.resolve("stderr")));
            if (dir.getParent().getFileName().toString().equals(app) && m.find()) {
                long pid = Long.parseLong(m.group(1));
                if (ProcessHandle.of(pid).map(ProcessHandle::destroyForcibly).orElse(false)) {
                    System.out.println("killed executor " + pid + " of " + app + " (" + dir + ")");
                    return pid;
                }
            }
        }
        return fail("no live executor of " + app + " to kill in " + executorDirs);
    }

    private void submit(String command, String sparkArgs) throws Exception {
        submit(command, sparkArgs, new String[] {command});
    }

    private void submit(String name, String sparkArgs, String... command) throws Exception {
        long begin = System.nanoTime();
        awaitSuccess(start(name, sparkArgs, command), name);
        System.out.printf("%s on the cluster: %.0f s%n", name, (System.nanoTime() - begin) / 1e9);
    }

    private static List<String> listing(Path dir) throws IOException {
        try (Stream<Path> entries = Files.list(dir)) {
            return entries.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    private Process start(String name, String sparkArgs, String... command) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("bash", ROOT.resolve("deploy/spark-submit.sh").toString()));
        cmd.addAll(List.of(command));
        cmd.addAll(List.of("--config", config.toString(), "--out", out));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).directory(driverDir.toFile())
                .redirectOutput(clusterDir.resolve("logs/" + name + ".log").toFile());
        pb.environment().putAll(Map.of("SPARK_HOME", clusterDir.resolve("spark-home").toString(), "SPARK_MASTER", masterUrl,
                "SPARK_PROPERTIES_FILE", ROOT.resolve("conf/spark/standalone.conf").toString(), "SPARK_SUBMIT_ARGS", sparkArgs));
        Process p = pb.start();
        drivers.add(p);
        driverPids.add(p.pid()); // spark-submit.sh execs the driver JVM
        return p;
    }

    private void awaitSuccess(Process p, String name) throws Exception {
        Path log = clusterDir.resolve("logs/" + name + ".log");
        if (!p.waitFor(10, TimeUnit.MINUTES)) {
            fail(name + " did not finish in 10 minutes; log " + log);
        }
        if (p.exitValue() != 0) {
            List<String> lines = Files.readAllLines(log);
            fail(name + " exited " + p.exitValue() + ":\n" + String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size())));
        }
    }

    private void run(String name, Map<String, String> env, int seconds, String... command) throws Exception {
        Files.createDirectories(work.resolve("logs"));
        Path log = work.resolve("logs/" + name + ".log");
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().putAll(env);
        Process p = pb.start();
        if (!p.waitFor(seconds, TimeUnit.SECONDS) || p.exitValue() != 0) {
            p.destroyForcibly();
            fail(name + " failed:\n" + Files.readString(log));
        }
    }

    private List<Long> daemonPids() throws IOException {
        List<Long> pids = new ArrayList<>();
        Path dir = clusterDir.resolve("pids");
        if (Files.isDirectory(dir)) {
            try (Stream<Path> files = Files.list(dir)) {
                for (Path f : files.toList()) {
                    pids.add(Long.parseLong(Files.readString(f).strip()));
                }
            }
        }
        return pids;
    }

    /** Listening TCP sockets of the master, workers, executors and drivers on anything but loopback. */
    private void recordPublicListeners() {
        try {
            Set<Long> pids = new HashSet<>(driverPids);
            if (hdfs != null) {
                pids.add(hdfs.pid()); // the NameNode and DataNode too
            }
            for (long daemon : daemonPids()) {
                pids.add(daemon);
                ProcessHandle.of(daemon).ifPresent(h -> h.descendants().forEach(d -> pids.add(d.pid())));
            }
            Map<String, String> listening = new HashMap<>(); // socket inode -> local address (hex)
            for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
                for (String line : Files.readAllLines(Path.of(table)).subList(1, Files.readAllLines(Path.of(table)).size())) {
                    String[] f = line.trim().split("\\s+");
                    if (f[3].equals("0A")) {
                        listening.put(f[9], f[1]);
                    }
                }
            }
            for (long pid : pids) {
                Path fds = Path.of("/proc/" + pid + "/fd");
                if (!Files.isDirectory(fds)) {
                    continue;
                }
                watchedPids.add(pid);
                try (Stream<Path> links = Files.list(fds)) {
                    for (Path link : links.toList()) {
                        String target;
                        try {
                            target = Files.readSymbolicLink(link).toString();
                        } catch (IOException gone) {
                            continue;
                        }
                        if (target.startsWith("socket:[")) {
                            String address = listening.get(target.substring(8, target.length() - 1));
                            if (address != null && !isLoopback(address)) {
                                publicListeners.add("pid " + pid + " on " + address);
                            }
                        }
                    }
                }
            }
        } catch (IOException | RuntimeException processGone) {
            // a process ended between listing and reading; the next sample sees the rest
        }
    }

    private static boolean isLoopback(String hexAddressAndPort) {
        String ip = hexAddressAndPort.substring(0, hexAddressAndPort.indexOf(':'));
        return ip.equals("0100007F") // 127.0.0.1
                || ip.equals("0000000000000000FFFF00000100007F") // ::ffff:127.0.0.1
                || ip.equals("00000000000000000000000001000000"); // ::1
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }
}
