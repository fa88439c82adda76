package org.sparsetransfer.jobs.stages;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.sparsetransfer.core.config.ExperimentConfig;
import org.sparsetransfer.core.experiment.TrainedModel;
import org.sparsetransfer.core.experiment.UpstreamExperiment;
import org.sparsetransfer.core.model.Weights;
import org.sparsetransfer.core.prune.Mask;
import org.sparsetransfer.core.data.ImageSource;
import org.sparsetransfer.core.train.ClassCounts;

/**
 * Scores trained weights on the upstream validation and test splits as Spark tasks over parts
 * of each split, all in one Spark job: a task reads only its part of the split from the table's
 * files and counts its predictions per class; {@code treeAggregate} sums the counts into the
 * scores (top-1 and mean-per-class) that one evaluation of the whole split would give.
 */
public final class SplitEvaluation {
    private static final List<String> SPLITS = List.of("val", "test");

    /** What every task evaluates. */
    public record Model(ExperimentConfig config, Weights weights, Mask mask) implements Serializable {}

    /** Part {@code index} of {@code parts} of {@code split}. */
    public record Part(String split, int index, int parts) implements Serializable {}

    /** The validation and test counts, summed over parts. */
    public record Sum(ClassCounts val, ClassCounts test) implements Serializable {
        Sum() {
            this(ClassCounts.empty(), ClassCounts.empty());
        }

        Sum add(String split, ClassCounts counts) {
            (split.equals("val") ? val : test).merge(counts);
            return this;
        }

        Sum merge(Sum other) {
            val.merge(other.val);
            test.merge(other.test);
            return this;
        }
    }

    private SplitEvaluation() {}

    /**
     * The trained model with its scores over {@code parts} tasks per split.
     *
     * @param steps, examplesSeen, wallSeconds what the training cost (kept in the checkpoint)
     */
    static TrainedModel score(JavaSparkContext jsc, String stage, ExperimentConfig config, UpstreamData data, Weights weights,
            Mask mask, int parts, int steps, long examplesSeen, double wallSeconds) {
        if (parts < 1) {
            throw new IllegalArgumentException("an evaluation needs at least one part, got " + parts);
        }
        List<Part> all = new ArrayList<>();
        for (String split : SPLITS) {
            for (int i = 0; i < parts; i++) {
                all.add(new Part(split, i, parts));
            }
        }
        Broadcast<Model> model = jsc.broadcast(new Model(config, weights, mask));
        JavaRDD<Part> tasks = TrainingResources.apply(jsc.parallelize(all, all.size()), stage);
        int depth = TrainingJobs.treeDepth(all.size());
        Sum[] sum = new Sum[1];
        TrainingJobs.inPool(TrainingJobs.TRAINING_POOL, () -> sum[0] = tasks.treeAggregate(new Sum(),
                (acc, part) -> acc.add(part.split(), count(model.value(), data, part)), Sum::merge, depth));
        model.destroy();
        for (String split : SPLITS) {
            long counted = (split.equals("val") ? sum[0].val() : sum[0].test()).examples();
            if (counted != data.size(split)) {
                throw new IllegalStateException(String.format("the parts of %s/%s counted %,d examples; the datasets table holds %,d",
                        data.dataset(), split, counted, data.size(split)));
            }
        }
        TrainedModel scored = new TrainedModel(weights, mask, sum[0].val().scores(), sum[0].test().scores(), steps, examplesSeen,
                wallSeconds);
        StageContext.log(stage, UpstreamExperiment.scoredLine(scored.val(), scored.test(), mask, steps, wallSeconds)
                + String.format("  (%d parts per split)", parts));
        return scored;
    }

    private static ClassCounts count(Model model, UpstreamData data, Part part) throws Exception {
        ImageSource images = data.part(part.split(), part.index(), part.parts());
        return UpstreamExperiment.forModel(model.config(), images.numClasses(), Devices.forTask()).count(model.weights(), model.mask(),
                images);
    }
}
