package org.sparsetransfer.core.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.sparsetransfer.core.InvalidInputException;
import org.sparsetransfer.core.Synthetic;
import org.sparsetransfer.core.model.Tensor;
import org.sparsetransfer.core.model.Weights;
import org.sparsetransfer.core.prune.MagnitudePruner;
import org.sparsetransfer.core.prune.Mask;

class CheckpointCodecTest {
    private final Weights dense;
    private final Mask mask;
    private final Weights sparse;

    CheckpointCodecTest() {
        Map<String, Tensor> t = new LinkedHashMap<>();
        t.put("conv", Synthetic.gaussian(1, 32, 16, 3, 3));
        t.put("fc", Synthetic.gaussian(2, 128, 1568));
        t.put("bias", Synthetic.gaussian(3, 128));
        dense = new Weights(t);
        mask = new MagnitudePruner(MagnitudePruner.Scope.GLOBAL).prune(dense, Mask.dense(dense, Set.of("conv", "fc")), 0.9);
        sparse = mask.apply(dense);
    }

    @Test
    void roundTripsWeightsAndMaskExactly() {
        byte[] bytes = CheckpointCodec.encode(sparse, mask);
        CheckpointCodec.Decoded decoded = CheckpointCodec.decode(bytes, CheckpointCodec.checksum(bytes), "test");
        assertEquals(sparse, decoded.weights());
        assertEquals(mask, decoded.mask());
    }

    @Test
    void denseModelsRoundTripWithoutMask() {
        byte[] bytes = CheckpointCodec.encode(dense, null);
        CheckpointCodec.Decoded decoded = CheckpointCodec.decode(bytes, CheckpointCodec.checksum(bytes), "dense");
        assertEquals(dense, decoded.weights());
        assertNull(decoded.mask());
    }

    @Test
    void ninetyPercentSparseStoresFarFewerBytesThanDense() {
        long denseBytes = dense.parameterCount() * Float.BYTES;
        int stored = CheckpointCodec.encode(sparse, mask).length;
        double ratio = (double) stored / denseBytes;
        assertTrue(ratio < 0.15, "stored/dense = " + ratio);
        assertTrue(CheckpointCodec.encode(dense, null).length >= denseBytes);
    }

    @Test
    void aFlippedByteFailsTheChecksum() {
        byte[] bytes = CheckpointCodec.encode(sparse, mask);
        String checksum = CheckpointCodec.checksum(bytes);
        bytes[bytes.length / 2] ^= 1;
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> CheckpointCodec.decode(bytes, checksum, "ckpt-1"));
        assertTrue(e.getMessage().contains("ckpt-1") && e.getMessage().contains("checksum"), e.getMessage());
    }
}
