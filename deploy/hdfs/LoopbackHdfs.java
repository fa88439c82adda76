import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.hdfs.MiniDFSCluster;

/**
 * A NameNode and a DataNode in this JVM, every address on 127.0.0.1, its data under STATE_DIR/data
 * (kept across restarts). Run by deploy/hdfs/start-hdfs.sh as a single-file program, so the project
 * needs no build module for it. Once the file system accepts a write it writes its URI to
 * STATE_DIR/uri, then serves until killed.
 *
 * <p>Usage: java -cp CLASSPATH LoopbackHdfs.java STATE_DIR PORT (0 = a free port)
 */
public final class LoopbackHdfs {
    public static void main(String[] args) throws Exception {
        Path state = Path.of(args[0]).toAbsolutePath();
        int port = Integer.parseInt(args[1]);
        Path data = state.resolve("data");
        boolean fresh = !Files.isDirectory(data.resolve("name-0-1/current"));
        Configuration conf = new Configuration();
        conf.set(MiniDFSCluster.HDFS_MINIDFS_BASEDIR, data.toString());
        // Loopback only; MiniDFSCluster's own defaults already are, these make it explicit.
        conf.set("dfs.namenode.rpc-address", "127.0.0.1:" + port);
        conf.set("dfs.namenode.http-address", "127.0.0.1:0");
        conf.set("dfs.datanode.address", "127.0.0.1:0");
        conf.set("dfs.datanode.http.address", "127.0.0.1:0");
        conf.set("dfs.datanode.ipc.address", "127.0.0.1:0");
        conf.set("dfs.datanode.hostname", "127.0.0.1");
        // One DataNode: a single replica, and no wait for a second one on close.
        conf.setInt("dfs.replication", 1);
        MiniDFSCluster cluster = new MiniDFSCluster.Builder(conf, data.toFile())
                .nameNodePort(port)
                .numDataNodes(1)
                .format(fresh)
                .manageNameDfsDirs(true)
                .manageDataDfsDirs(true)
                .checkDataNodeAddrConfig(true) // keep the 127.0.0.1 addresses set above
                .build();
        cluster.waitActive();
        String uri = "hdfs://127.0.0.1:" + cluster.getNameNodePort();
        try (FileSystem fs = FileSystem.newInstance(java.net.URI.create(uri), conf)) {
            org.apache.hadoop.fs.Path probe = new org.apache.hadoop.fs.Path("/.loopback-hdfs-probe");
            try (var out = fs.create(probe, true)) {
                out.write("ok".getBytes(StandardCharsets.UTF_8));
            }
            fs.delete(probe, false);
        }
        Path tmp = state.resolve("uri.tmp");
        Files.writeString(tmp, uri + "\n");
        Files.move(tmp, state.resolve("uri"), StandardCopyOption.ATOMIC_MOVE);
        Runtime.getRuntime().addShutdownHook(new Thread(cluster::shutdown));
        Thread.currentThread().join(); // serve until stopped
    }
}
