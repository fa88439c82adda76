package org.sparsetransfer.core.model;

import java.io.Serializable;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A running sum of models' weights, for averaging them (data-parallel training). Mergeable in
 * any order, so it fits Spark's treeAggregate; the empty sum is its zero. A sum of one model
 * holds that model's float weights as they are, so one worker's result travels at float size
 * and its average is its weights bit for bit; more models are summed in double.
 */
public final class WeightSum implements Serializable {
    private static final long serialVersionUID = 2L;
    private final LinkedHashMap<String, double[]> sums = new LinkedHashMap<>();
    private final LinkedHashMap<String, long[]> shapes = new LinkedHashMap<>();
    private Weights single;
    private int count;

    /** Adds one model's weights (summed in double, so the average does not depend on the merge order beyond rounding). */
    public WeightSum add(Weights weights) {
        if (count == 0) {
            single = weights;
        } else {
            spill();
            addToSums(weights);
        }
        count++;
        return this;
    }

    public WeightSum merge(WeightSum other) {
        if (other.count == 0) {
            return this;
        }
        if (count == 0) {
            single = other.single;
            other.sums.forEach((name, sum) -> sums.put(name, sum.clone()));
            shapes.putAll(other.shapes);
            count = other.count;
            return this;
        }
        spill();
        if (other.single != null) {
            addToSums(other.single);
        } else {
            for (Map.Entry<String, double[]> e : other.sums.entrySet()) {
                double[] mine = sums.get(e.getKey());
                if (mine == null) {
                    sums.put(e.getKey(), e.getValue().clone());
                    shapes.put(e.getKey(), other.shapes.get(e.getKey()));
                } else {
                    double[] theirs = e.getValue();
                    for (int i = 0; i < mine.length; i++) {
                        mine[i] += theirs[i];
                    }
                }
            }
        }
        count += other.count;
        return this;
    }

    public int count() {
        return count;
    }

    /** The mean of the added weights. */
    public Weights average() {
        if (count == 0) {
            throw new IllegalStateException("no weights to average");
        }
        if (single != null) {
            return single;
        }
        Map<String, Tensor> mean = new LinkedHashMap<>();
        for (Map.Entry<String, double[]> e : sums.entrySet()) {
            double[] sum = e.getValue();
            float[] values = new float[sum.length];
            for (int i = 0; i < sum.length; i++) {
                values[i] = (float) (sum[i] / count);
            }
            mean.put(e.getKey(), new Tensor(shapes.get(e.getKey()), values));
        }
        return new Weights(mean);
    }

    /** Moves the one model held as floats into the double sums, before a second one joins. */
    private void spill() {
        if (single != null) {
            addToSums(single);
            single = null;
        }
    }

    private void addToSums(Weights weights) {
        for (Map.Entry<String, Tensor> e : weights.tensors().entrySet()) {
            float[] values = e.getValue().values();
            double[] sum = sums.computeIfAbsent(e.getKey(), k -> new double[values.length]);
            if (sum.length != values.length) {
                throw new IllegalArgumentException("tensor " + e.getKey() + " has " + values.length + " values, the sum has " + sum.length);
            }
            shapes.putIfAbsent(e.getKey(), e.getValue().shape());
            for (int i = 0; i < values.length; i++) {
                sum[i] += values[i];
            }
        }
    }
}
