package org.sparsetransfer.core.train;

import java.util.SplittableRandom;
import org.sparsetransfer.core.data.Sampling;

/**
 * The order in which a run visits its training examples: a seeded permutation, cut into batches;
 * when the next batch would run past its end, the permutation is reshuffled (with the same random
 * stream) and a new pass begins, so every pass visits each example at most once and the examples
 * a short last batch would take wait for the next pass. The same (size, batch, seed) always gives
 * the same batches, so a run cut into rounds ({@link DataParallelPlan}) continues where the last
 * round stopped by {@link #skip skipping} the batches already trained.
 */
public final class BatchOrder {
    private final int batch;
    private final SplittableRandom random;
    private final int[] order;
    private int cursor;
    private int pass;

    public BatchOrder(int size, int batch, long seed) {
        if (batch < 1 || batch > size) {
            throw new IllegalArgumentException("a batch of " + batch + " from " + size + " examples");
        }
        this.batch = batch;
        this.random = new SplittableRandom(seed);
        this.order = Sampling.permutation(size, random.nextLong());
    }

    /** The example indices of the next batch. */
    public long[] next() {
        advance();
        long[] indices = new long[batch];
        for (int i = 0; i < batch; i++) {
            indices[i] = order[cursor++];
        }
        return indices;
    }

    /** Moves past {@code batches} batches without producing them: the order a run resumed at that step continues. */
    public void skip(long batches) {
        for (long b = 0; b < batches; b++) {
            advance();
            cursor += batch;
        }
    }

    private void advance() {
        if (cursor + batch > order.length) {
            Sampling.shuffle(order, random);
            cursor = 0;
            pass++;
        }
    }

    /** The pass the last batch belongs to (0 first): augmented inputs draw their transforms per pass. */
    public int pass() {
        return pass;
    }
}
