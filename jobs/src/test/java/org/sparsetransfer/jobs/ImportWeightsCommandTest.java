package org.sparsetransfer.jobs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sparsetransfer.core.checkpoint.CheckpointCodec;
import org.sparsetransfer.core.model.Network;
import org.sparsetransfer.core.model.ResNet;
import org.sparsetransfer.core.model.TorchThreads;
import org.sparsetransfer.core.model.Weights;
import org.sparsetransfer.jobs.cli.SparseTransferCli;
import org.sparsetransfer.jobs.spark.SparkSessions;
import org.sparsetransfer.jobs.stages.CheckpointRecord;
import org.sparsetransfer.jobs.tables.CheckpointTable;
import org.sparsetransfer.jobs.tables.Warehouse;

/** A torchvision-layout resnet18 state_dict in safetensors, with one half-sparse conv, imported into the checkpoint table. */
class ImportWeightsCommandTest {
    @TempDir
    Path dir;

    @Test
    void importsOnceWithTheZerosAsTheMask() throws Exception {
        ResNet r18 = ResNet.resnet18(32);
        Map<String, String> keys = r18.referenceKeys(10);
        String sparseConv = keys.entrySet().stream().filter(e -> e.getValue().equals("layer3.0.conv1.weight")).findFirst().orElseThrow().getKey();
        Weights weights = TorchThreads.exclusive(() -> {
            try (Network net = Network.classifier(r18, 10, 5, Device.cpu())) {
                return net.weights();
            }
        });
        Path file = dir.resolve("resnet18-sparse.safetensors");
        long[] zeroed = {0};
        StateDicts.write(weights, keys, file, (name, values) -> {
            if (name.equals(sparseConv)) {
                for (int i = 0; i < values.length; i += 2) {
                    values[i] = 0f;
                    zeroed[0]++;
                }
            }
            return values;
        });

        Path out = dir.resolve("warehouse");
        String[] args = {"import-weights", "--model", "resnet18", "--side", "32", "--classes", "10", "--file", file.toString(),
                "--out", out.toString(), "--master", "local[2]"};
        StringWriter err = new StringWriter();
        assertEquals(0, SparseTransferCli.execute(new SparseTransferCli(), new PrintWriter(err, true), args), err.toString());
        assertEquals(0, SparseTransferCli.execute(new SparseTransferCli(), new PrintWriter(err, true), args), "again: " + err);

        SparkSession spark = SparkSessions.create("test", "local[2]");
        try {
            CheckpointTable table = new CheckpointTable(spark, new Warehouse(out));
            List<CheckpointRecord> all = table.describe(table.table().select("id").as(org.apache.spark.sql.Encoders.STRING()).collectAsList());
            assertEquals(1, all.size(), "importing the same file twice stores one checkpoint");
            CheckpointRecord record = table.get(all.get(0).id()).orElseThrow();
            assertTrue(record.id().startsWith("imported-resnet18-"), record.id());
            assertEquals("imported", record.method());
            CheckpointCodec.Decoded decoded = record.decode();
            assertEquals(zeroed[0], decoded.mask().prunedCount());
            assertEquals((double) zeroed[0] / decoded.mask().size(), record.actualSparsity(), 1e-9);
            float[] conv = decoded.weights().get(sparseConv).values();
            for (int i = 0; i < conv.length; i++) {
                assertEquals(i % 2 == 0, !decoded.mask().bits(sparseConv)[i], "mask bit " + i);
            }
            assertArrayEquals(weights.get(keys.keySet().iterator().next()).values(), decoded.weights().get(keys.keySet().iterator().next()).values());
        } finally {
            spark.stop();
        }
    }
}
