package org.sparsetransfer.jobs;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.BiFunction;
import org.sparsetransfer.core.model.Weights;

/** Writes weights as a PyTorch state_dict in safetensors, as {@code import-weights} reads them. */
final class StateDicts {
    private StateDicts() {}

    /**
     * @param keys the state-dict key of each parameter name (e.g. {@code ResNet.torchvisionKeys})
     * @param values each tensor's values to write, given its parameter name and stored values
     */
    static void write(Weights weights, Map<String, String> keys, Path file, BiFunction<String, float[], float[]> values)
            throws IOException {
        try (NDManager manager = NDManager.newBaseManager(Device.cpu()); OutputStream out = Files.newOutputStream(file)) {
            NDList stateDict = new NDList();
            for (Map.Entry<String, String> e : keys.entrySet()) {
                float[] v = values.apply(e.getKey(), weights.get(e.getKey()).values().clone());
                NDArray a = manager.create(v, new Shape(weights.get(e.getKey()).shape()));
                a.setName(e.getValue());
                stateDict.add(a);
            }
            stateDict.encode(out, NDList.Encoding.SAFETENSORS);
        }
    }
}
