package org.sparsetransfer.jobs.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sparsetransfer.core.InvalidInputException;

/** What a user may give as --out (or any location): schemes, relative paths, and the errors for the rest. */
class LocationTest {
    @TempDir
    Path dir;

    @Test
    void plainPathsStayLocalAndAbsolute() {
        Location relative = Location.parse("wh/./a/../b", "--out");
        assertTrue(relative.isLocal());
        assertEquals(Path.of("wh/b").toAbsolutePath().toString(), relative.toString());
        assertEquals("file:" + Path.of("wh/b").toAbsolutePath(), relative.uri(), "a full URI, so a cluster's default file system cannot claim it");
        assertEquals(Location.parse("/data/wh", "--out"), Location.parse("file:/data/wh/", "--out"));
        assertEquals(Location.parse("/data/wh", "--out"), Location.parse("file:///data/wh", "--out"));
        assertEquals("/data/wh/checkpoints", Location.parse("/data/wh", "--out").resolve("checkpoints").toString());
    }

    @Test
    void messagesShowLocalPathsWithoutTheirScheme() {
        assertEquals("/data/wh/checkpoints/_delta_log", Location.display("file:/data/wh/checkpoints/_delta_log"));
        assertEquals("/data/wh", Location.display("/data/wh"));
        assertEquals("hdfs://nn:8020/wh/checkpoints", Location.display("hdfs://nn:8020/wh/checkpoints"));
        assertEquals(Location.parse("/data/wh", "--out").toString(), Location.display(Location.parse("/data/wh", "--out").uri()));
    }

    @Test
    void hadoopUrisKeepSchemeHostAndPath() {
        Location hdfs = Location.parse("hdfs://127.0.0.1:8020/user/me//wh/", "--out");
        assertFalse(hdfs.isLocal());
        assertEquals("hdfs", hdfs.scheme());
        assertEquals("hdfs://127.0.0.1:8020/user/me/wh", hdfs.uri());
        assertEquals("hdfs://127.0.0.1:8020/user/me/wh/report/runs/r1", hdfs.resolve("report/runs/r1").uri());
        assertEquals("hdfs://127.0.0.1:8020/user/me", hdfs.parent().uri());
        assertEquals("wh", hdfs.name());
        assertEquals("s3a://bucket/", Location.parse("s3a://bucket", "--out").uri());
        assertNull(Location.parse("s3a://bucket", "--out").parent());
        assertEquals("hdfs:/wh", Location.parse("HDFS:///wh", "--out").uri(), "no authority: the configured default NameNode");
        assertEquals(Storage.Kind.DISTRIBUTED, Storage.kind(hdfs));
        assertEquals(Storage.Kind.OBJECT_STORE, Storage.kind(Location.parse("s3a://bucket/wh", "--out")));
        assertEquals(Storage.Kind.LOCAL, Storage.kind(Location.parse("wh", "--out")));
    }

    @Test
    void spacesAndPercentSignsSurviveTheRoundTripThroughHadoop() {
        Location odd = Location.local(dir.resolve("a b%20c"));
        assertEquals(dir.resolve("a b%20c").toString(), odd.hadoopPath().toUri().getPath());
        assertEquals(odd.hadoopPath(), new org.apache.hadoop.fs.Path(odd.uri()), "the string form parses back to the same Hadoop path");
        Storage storage = new Storage(new Configuration());
        storage.writeString(odd.resolve("x.txt"), "hello");
        assertEquals("hello", storage.readString(odd.resolve("x.txt")));
        assertTrue(Files.exists(dir.resolve("a b%20c").resolve("x.txt")));
        assertFalse(Files.exists(dir.resolve("a b%20c").resolve(".x.txt.crc")), "local files go through the raw file system: no .crc");
    }

    @Test
    void badLocationsAreOneClearError() {
        assertEquals("--out is empty; give a directory, e.g. --out sparse-transfer-out, or a URI such as hdfs://namenode:8020/wh",
                assertThrows(InvalidInputException.class, () -> Location.parse(" ", "--out")).getMessage());
        assertTrue(assertThrows(InvalidInputException.class, () -> Location.parse("hdfs:wh", "--out")).getMessage()
                .contains("relative path after its scheme"));
        assertTrue(assertThrows(InvalidInputException.class, () -> Location.parse("file:wh", "--out")).getMessage()
                .contains("a plain path (relative paths are local)"));
        assertTrue(assertThrows(InvalidInputException.class, () -> Location.parse("file://elsewhere/wh", "--out")).getMessage()
                .contains("a file: URI is local"));
        assertTrue(assertThrows(InvalidInputException.class, () -> Location.parse("hdfs://nn/../wh", "--out")).getMessage()
                .contains("above the root"));
        String secret = assertThrows(InvalidInputException.class, () -> Location.parse("s3a://AKIA123:s3cr3t@bucket/wh", "--out"))
                .getMessage();
        assertTrue(secret.contains("credentials") && !secret.contains("s3cr3t") && !secret.contains("AKIA123"), secret);
        Storage storage = new Storage(new Configuration());
        String unknown = assertThrows(InvalidInputException.class, () -> storage.fileSystem(Location.parse("nosuch://x/wh", "--out")))
                .getMessage();
        assertTrue(unknown.startsWith("nosuch://x/wh: no file system for scheme \"nosuch\""), unknown);
    }

    @Test
    void aWarehouseUnderAFileOrWithoutWritePermissionIsRefusedBeforeAnythingIsWritten() throws Exception {
        Storage storage = new Storage(new Configuration());
        Path file = Files.writeString(dir.resolve("plain-file"), "x");
        String underFile = assertThrows(InvalidInputException.class,
                () -> storage.checkWritableDirectory(Location.local(file.resolve("wh")), "--out")).getMessage();
        assertTrue(underFile.contains("is a file, not a directory"), underFile);
        storage.checkWritableDirectory(Location.local(dir.resolve("new/deeper/wh")), "--out");
        assertFalse(Files.exists(dir.resolve("new")), "checking creates nothing");
        if (!"root".equals(System.getProperty("user.name"))) { // root may write anywhere
            Path locked = Files.createDirectory(dir.resolve("read-only"));
            assertTrue(locked.toFile().setWritable(false));
            String denied = assertThrows(InvalidInputException.class,
                    () -> storage.checkWritableDirectory(Location.local(locked.resolve("wh")), "--out")).getMessage();
            assertTrue(denied.contains("permission denied"), denied);
        }
    }

    @Test
    void anUnreachableFileSystemIsNamedWithWhatToCheck() {
        Configuration conf = new Configuration();
        conf.setInt("ipc.client.connect.max.retries", 0); // the test need not wait out the client's retries
        Storage storage = new Storage(conf);
        Location nowhere = Location.parse("hdfs://127.0.0.1:1/wh", "--out"); // port 1: nothing listens
        String message = assertThrows(InvalidInputException.class, () -> storage.checkWritableDirectory(nowhere, "--out")).getMessage();
        assertTrue(message.startsWith("--out hdfs://127.0.0.1:1/wh: cannot reach its file system ("), message);
        assertTrue(message.contains("the NameNode is running"), message);
    }
}
