package org.sparsetransfer.jobs.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivilegedExceptionAction;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.permission.FsPermission;
import org.apache.hadoop.security.UserGroupInformation;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.sparsetransfer.core.InvalidInputException;
import org.sparsetransfer.jobs.cli.SparseTransferCli;
import org.sparsetransfer.jobs.storage.Location;
import org.sparsetransfer.jobs.storage.Storage;
import org.sparsetransfer.jobs.tables.Warehouse;
import org.sparsetransfer.jobs.tables.WarehouseLock;

/**
 * A warehouse on a real HDFS (deploy/hdfs on 127.0.0.1): per-scope locks that a second run finds
 * held, naming the holder, and that a holder killed with SIGKILL does not keep forever; bad
 * locations as one error that writes nothing, locally or on HDFS. (The tiny pipeline itself runs
 * on an HDFS warehouse in {@link StandaloneClusterIT}.)
 */
@Tag("slow")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HdfsWarehouseIT {
    private static final Path TINY = LoopbackHdfs.ROOT.resolve("conf/tiny.yaml");

    private Path work;
    private LoopbackHdfs hdfs;
    private final List<Process> children = new ArrayList<>();

    @BeforeAll
    void startHdfs() throws Exception {
        work = Files.createTempDirectory("hdfs-it");
        hdfs = LoopbackHdfs.start(work.resolve("hdfs"));
    }

    @AfterAll
    void stopHdfs() throws Exception {
        children.forEach(Process::destroyForcibly);
        if (hdfs != null) {
            hdfs.close();
        }
        org.apache.commons.io.FileUtils.deleteQuietly(work.toFile());
    }

    @Test
    void aHeldScopeFailsASecondRunFastAndAKilledHoldersLockIsTakenOverOnceItsLeaseExpires() throws Exception {
        String warehouse = hdfs.uri() + "/locks-wh";
        Process holder = new ProcessBuilder(javaBinary(), "-cp", System.getProperty("java.class.path"), HeldLock.class.getName(),
                warehouse, "ingest").redirectErrorStream(true).start();
        children.add(holder);
        BufferedReader lines = new BufferedReader(new InputStreamReader(holder.getInputStream(), StandardCharsets.UTF_8));
        for (String line = lines.readLine(); !"held".equals(line); line = lines.readLine()) {
            if (line == null) {
                fail("the holder exited before taking the lock");
            }
        }

        long begin = System.nanoTime();
        String held = failing("ingest", "--config", TINY.toString(), "--out", warehouse, "--master", "local[1]");
        assertTrue(held.startsWith("error: Warehouse " + warehouse + " is in use by another sparse-transfer run for ingest (command held-lock, pid "
                + holder.pid() + " on "), held);
        assertTrue(held.contains("hdfs dfs -rm " + warehouse + "/.locks/ingest.lock"), "names the command that breaks it: " + held);
        assertTrue((System.nanoTime() - begin) / 1e9 < 60, "fails fast, without starting Spark");
        Storage storage = new Storage(new Configuration());
        Location lockFile = Location.parse(warehouse + "/.locks/ingest.lock", "lock");
        assertTrue(storage.exists(lockFile));

        holder.destroyForcibly(); // SIGKILL: the holder cannot release anything
        assertTrue(holder.waitFor(30, TimeUnit.SECONDS));
        long killed = System.nanoTime();
        WarehouseLock taken = null;
        int refusals = 0;
        while (taken == null) {
            try {
                taken = WarehouseLock.acquire(storage, Warehouse.parse(warehouse), "test", List.of("ingest"));
            } catch (InvalidInputException stillHeld) {
                assertTrue(stillHeld.getMessage().contains("pid " + holder.pid()), stillHeld.getMessage());
                refusals++;
                if ((System.nanoTime() - killed) / 1e9 > 180) {
                    fail("the killed holder's lock still blocks after 180 s: " + stillHeld.getMessage());
                }
                Thread.sleep(5000);
            }
        }
        double waited = (System.nanoTime() - killed) / 1e9;
        System.out.printf("the killed holder's lock was taken over %.0f s after the kill (%d refusals)%n", waited, refusals);
        assertTrue(storage.readString(lockFile).strip().endsWith("]") && storage.readString(lockFile).contains("command test, pid "
                + ProcessHandle.current().pid()), "the lock file now names this run: " + storage.readString(lockFile));
        taken.close();
        assertFalse(storage.exists(lockFile), "a released lock file is deleted");
        try (WarehouseLock again = WarehouseLock.acquire(storage, Warehouse.parse(warehouse), "test", List.of("ingest"))) {
            assertTrue(storage.exists(lockFile), "and can be taken again at once");
        }
    }

    @Test
    void badLocationsAreOneErrorAndWriteNothingLocallyOrOnHdfs() throws Exception {
        Path cwd = Path.of("").toAbsolutePath();
        List<String> before = listing(cwd);
        int closed = freePort();
        String unreachable = failing("ingest", "--config", TINY.toString(), "--out", "hdfs://127.0.0.1:" + closed + "/wh", "--master", "local[1]");
        assertTrue(unreachable.startsWith("error: --out hdfs://127.0.0.1:" + closed + "/wh: cannot reach its file system ("), unreachable);
        String unknown = failing("ingest", "--config", TINY.toString(), "--out", "nosuch://host/wh", "--master", "local[1]");
        assertTrue(unknown.startsWith("error: nosuch://host/wh: no file system for scheme \"nosuch\""), unknown);
        String relative = failing("ingest", "--config", TINY.toString(), "--out", "hdfs:wh", "--master", "local[1]");
        assertTrue(relative.contains("relative path after its scheme"), relative);

        // A directory only its owner (the HDFS superuser that runs this test) may write, and another user's run.
        Configuration conf = new Configuration();
        FileSystem fs = FileSystem.get(java.net.URI.create(hdfs.uri()), conf);
        org.apache.hadoop.fs.Path locked = new org.apache.hadoop.fs.Path("/locked");
        assertTrue(fs.mkdirs(locked, new FsPermission((short) 0755)));
        fs.setPermission(locked, new FsPermission((short) 0755));
        String denied = UserGroupInformation.createRemoteUser("alice").doAs((PrivilegedExceptionAction<String>) () ->
                failing("ingest", "--config", TINY.toString(), "--out", hdfs.uri() + "/locked/wh", "--master", "local[1]"));
        assertTrue(denied.startsWith("error: --out " + hdfs.uri() + "/locked/wh: permission denied (") && denied.contains("user=alice"), denied);
        assertEquals(0, fs.listStatus(locked).length, "nothing written on HDFS");
        assertEquals(before, listing(cwd), "nothing written in the working directory (no directory named after a URI)");
    }

    private static String failing(String... args) {
        StringWriter err = new StringWriter();
        int code = SparseTransferCli.execute(new SparseTransferCli(), new PrintWriter(err, true), args);
        String message = err.toString().strip();
        assertEquals(SparseTransferCli.EXIT_BAD_INPUT, code, message);
        assertEquals(1, message.lines().count(), "one line: " + message);
        return message;
    }

    private static List<String> listing(Path dir) throws Exception {
        try (Stream<Path> entries = Files.list(dir)) {
            return entries.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    private static String javaBinary() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    private static int freePort() throws Exception {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }
}
