package org.sparsetransfer.core.transfer;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.sparsetransfer.core.task.Metric;
import org.sparsetransfer.core.train.Scores;
import org.sparsetransfer.core.train.TrainingData;

/**
 * Multinomial logistic regression on frozen features, fitted to convergence: the objective is the
 * mean cross-entropy of the softmax of {@code x W + b} over the training examples plus
 * {@code (lambda / 2) |W|^2} (the bias is not penalized), as scikit-learn's
 * {@code LogisticRegression(C = 1 / (n lambda))} and Kornblith et al. (2019) fit it, minimized by
 * {@link Lbfgs}. Loss and gradient are computed by the engine in float64, batch by batch over the
 * examples (features may be spilled to disk), so memory does not grow with the split.
 *
 * <p>Parameters are one vector: W (features x classes, row-major), then b (classes).
 */
public final class LinearProbe {
    /** Rows per engine batch of a loss evaluation. */
    private static final int BATCH = 4096;
    /** Features (float64) and one-hot labels a fit keeps on the engine between evaluations, at most. */
    private static final long RESIDENT_BYTES = 256L << 20;

    /** A fitted probe: its parameters, penalty and the optimizer's result (its value is the objective's at the end). */
    public record Fit(double[] parameters, int dimension, int classes, double lambda, Lbfgs.Result result, double dataLoss) {
        public boolean converged() {
            return result.converged();
        }
    }

    /** The penalty chosen and every penalty's validation score (in percent, the task's metric; a mean over folds). */
    public record Selection(double lambda, double score, Map<Double, Double> scores) {}

    /**
     * How much looser the fits that only rank penalties stop (their gradient tolerance times this):
     * a ranking by validation accuracy needs no tight optimum, and the refit is tight.
     */
    static final double SELECTION_LOOSENING = 10;

    private LinearProbe() {}

    /**
     * Chooses the penalty of {@code grid} whose fits score best on the validation examples
     * (averaged over the folds), the larger penalty on a tie. Each fold fits the penalties from
     * the largest down, each from the last one's solution (a regularization path).
     */
    public static Selection choosePenalty(TrainingData data, int dimension, Validation validation, List<Double> grid, Metric metric,
            Lbfgs.Settings settings) {
        List<Double> path = grid.stream().sorted(Comparator.reverseOrder()).toList();
        double[] total = new double[path.size()];
        int[] labels = data.labelValues();
        Lbfgs.Settings ranking = new Lbfgs.Settings(settings.memory(), settings.maxIterations(),
                settings.gradientTolerance() * SELECTION_LOOSENING, settings.valueTolerance());
        for (Validation.Fold fold : validation.folds()) {
            double[] start = null;
            int[] truth = new int[fold.validation().length];
            for (int i = 0; i < truth.length; i++) {
                truth[i] = labels[(int) fold.validation()[i]];
            }
            // The fold's examples are gathered once for all its penalties.
            try (Examples train = new Examples(data, fold.train(), dimension, data.numClasses());
                    Examples held = new Examples(data, fold.validation(), dimension, data.numClasses())) {
                for (int i = 0; i < path.size(); i++) {
                    Fit fit = fit(train, path.get(i), start, ranking);
                    start = fit.parameters();
                    int[] predicted = held.predict(fit);
                    total[i] += metric.percent(Scores.of(predicted, truth, data.numClasses())) / validation.folds().size();
                }
            }
        }
        int best = 0;
        Map<Double, Double> scores = new LinkedHashMap<>();
        for (int i = 0; i < path.size(); i++) {
            scores.put(path.get(i), total[i]);
            if (total[i] > total[best]) {
                best = i;
            }
        }
        return new Selection(path.get(best), total[best], scores);
    }

    /**
     * Fits the probe on the examples of {@code data} at {@code indices} (all when null) with
     * penalty {@code lambda}, from {@code start} (null: zeros).
     */
    public static Fit fit(TrainingData data, long[] indices, int dimension, double lambda, double[] start, Lbfgs.Settings settings) {
        try (Examples examples = new Examples(data, indices == null ? all(data.size()) : indices, dimension, data.numClasses())) {
            return fit(examples, lambda, start, settings);
        }
    }

    private static Fit fit(Examples examples, double lambda, double[] start, Lbfgs.Settings settings) {
        double[] x0 = start != null ? start : new double[(examples.dimension + 1) * examples.classes];
        Lbfgs.Result result = Lbfgs.minimize(examples.objective(lambda), x0, settings);
        return new Fit(result.x(), examples.dimension, examples.classes, lambda, result, examples.dataLoss(result.x()));
    }

    /** The exact objective's value and gradient's largest component at {@code parameters} (a head trained otherwise). */
    public static double[] objectiveAt(TrainingData data, int dimension, double lambda, double[] parameters) {
        try (Examples loss = new Examples(data, all(data.size()), dimension, data.numClasses())) {
            double[] gradient = new double[parameters.length];
            double value = loss.objective(lambda).evaluate(parameters, gradient);
            double max = 0;
            for (double g : gradient) {
                max = Math.max(max, Math.abs(g));
            }
            return new double[] {value, max, loss.dataLoss(parameters)};
        }
    }

    /** The probe's predicted classes of the examples at {@code indices} (all when null), in that order. */
    public static int[] predict(TrainingData data, long[] indices, Fit fit) {
        long[] rows = indices == null ? all(data.size()) : indices;
        int[] predicted = new int[rows.length];
        for (int from = 0; from < rows.length; from += BATCH) {
            long[] chunk = Arrays.copyOfRange(rows, from, Math.min(from + BATCH, rows.length));
            try (NDScope scope = new NDScope()) { // every array made here is closed with the batch
                scope.suppressNotUsedWarning();
                int[] labels = classes(data.batch(chunk, 0, 0)[0].toType(DataType.FLOAT64, false), fit);
                System.arraycopy(labels, 0, predicted, from, labels.length);
            }
        }
        return predicted;
    }

    /** The probe's classes of a batch of float64 features. */
    private static int[] classes(NDArray x, Fit fit) {
        NDManager engine = x.getManager();
        return x.matMul(weights(engine, fit.parameters(), fit.dimension(), fit.classes()))
                .add(bias(engine, fit.parameters(), fit.dimension(), fit.classes()))
                .argMax(1).toType(DataType.INT32, false).toIntArray();
    }

    /**
     * A set of examples and the objective over them at any penalty, evaluated batch by batch on the
     * features' engine. The examples' features (as float64) and one-hot labels stay on the engine
     * between evaluations (and the penalties of a regularization path) while they take at most
     * {@link #RESIDENT_BYTES} (gathering them was most of an evaluation's time); larger sets are
     * read anew for every evaluation, so memory does not grow with them.
     */
    private static final class Examples implements AutoCloseable {
        private final TrainingData data;
        private final long[] indices;
        private final int dimension;
        private final int classes;
        /** Each batch's features and one-hot labels, or null: read per evaluation. */
        private final List<NDArray[]> resident;
        private NDManager owner;
        /** The parameters of the last evaluation and its mean cross-entropy, which a fit's end asks for again. */
        private double[] lastParameters;
        private double lastDataLoss;

        Examples(TrainingData data, long[] indices, int dimension, int classes) {
            if (indices.length == 0) {
                throw new IllegalArgumentException("no examples to fit");
            }
            this.data = data;
            this.indices = indices;
            this.dimension = dimension;
            this.classes = classes;
            this.resident = (long) indices.length * (dimension + classes) * Double.BYTES <= RESIDENT_BYTES ? gather() : null;
        }

        private List<NDArray[]> gather() {
            List<NDArray[]> batches = new java.util.ArrayList<>();
            for (int from = 0; from < indices.length; from += BATCH) {
                long[] chunk = Arrays.copyOfRange(indices, from, Math.min(from + BATCH, indices.length));
                try (NDScope scope = new NDScope()) {
                    scope.suppressNotUsedWarning();
                    NDArray[] xy = batch(chunk);
                    if (owner == null) {
                        owner = xy[0].getManager().newSubManager();
                    }
                    NDScope.unregister(xy);
                    for (NDArray a : xy) {
                        a.attach(owner);
                    }
                    batches.add(xy);
                }
            }
            return batches;
        }

        /** A chunk's features as float64 and its labels one-hot, on the engine. */
        private NDArray[] batch(long[] chunk) {
            NDArray[] xy = data.batch(chunk, 0, 0);
            return new NDArray[] {xy[0].toType(DataType.FLOAT64, false),
                    xy[1].toType(DataType.INT64, false).oneHot(classes).toType(DataType.FLOAT64, false)};
        }

        /** The objective at penalty {@code lambda}. */
        Lbfgs.Objective objective(double lambda) {
            return (parameters, gradient) -> evaluate(parameters, gradient, lambda);
        }

        /** The mean cross-entropy alone (the penalty left out); the last evaluation's when it was at these parameters. */
        double dataLoss(double[] parameters) {
            return Arrays.equals(parameters, lastParameters) ? lastDataLoss : evaluate(parameters, null, 0);
        }

        /** The probe's classes of these examples, in their order. */
        int[] predict(Fit fit) {
            int[] predicted = new int[indices.length];
            for (int b = 0, from = 0; from < indices.length; b++, from += BATCH) {
                try (NDScope scope = new NDScope()) { // every array made here is closed with the batch
                    scope.suppressNotUsedWarning();
                    int[] labels = classes(batch(b)[0], fit);
                    System.arraycopy(labels, 0, predicted, from, labels.length);
                }
            }
            return predicted;
        }

        /** Batch {@code b}: resident, or read now (closed with the caller's scope). */
        private NDArray[] batch(int b) {
            return resident != null ? resident.get(b)
                    : batch(Arrays.copyOfRange(indices, b * BATCH, Math.min((b + 1) * BATCH, indices.length)));
        }

        private double evaluate(double[] parameters, double[] gradient, double lambda) {
            double sum = 0;
            double[] gradW = gradient == null ? null : new double[dimension * classes];
            double[] gradB = gradient == null ? null : new double[classes];
            int batches = (indices.length + BATCH - 1) / BATCH;
            for (int b = 0; b < batches; b++) {
                try (NDScope scope = new NDScope()) { // every array made here is closed with the batch
                    scope.suppressNotUsedWarning();
                    NDArray[] xy = batch(b);
                    NDArray x = xy[0];
                    NDArray y = xy[1];
                    NDManager engine = x.getManager();
                    NDArray logp = x.matMul(weights(engine, parameters, dimension, classes))
                            .add(bias(engine, parameters, dimension, classes)).logSoftmax(1);
                    sum -= logp.mul(y).sum().getDouble();
                    if (gradient != null) {
                        NDArray residual = logp.exp().sub(y); // softmax - one hot
                        add(gradW, x.transpose().matMul(residual).toDoubleArray());
                        add(gradB, residual.sum(new int[] {0}).toDoubleArray());
                    }
                }
            }
            double n = indices.length;
            lastParameters = parameters.clone();
            lastDataLoss = sum / n;
            double norm = 0;
            for (int i = 0; i < dimension * classes; i++) {
                norm += parameters[i] * parameters[i];
            }
            double value = sum / n + lambda / 2 * norm;
            if (gradient != null) {
                for (int i = 0; i < dimension * classes; i++) {
                    gradient[i] = gradW[i] / n + lambda * parameters[i];
                }
                for (int c = 0; c < classes; c++) {
                    gradient[dimension * classes + c] = gradB[c] / n;
                }
            }
            return value;
        }

        @Override
        public void close() {
            if (owner != null) {
                owner.close();
            }
        }
    }

    private static NDArray weights(NDManager manager, double[] parameters, int dimension, int classes) {
        return manager.create(Arrays.copyOf(parameters, dimension * classes), new Shape(dimension, classes));
    }

    private static NDArray bias(NDManager manager, double[] parameters, int dimension, int classes) {
        return manager.create(Arrays.copyOfRange(parameters, dimension * classes, (dimension + 1) * classes), new Shape(classes));
    }

    private static void add(double[] into, double[] values) {
        for (int i = 0; i < into.length; i++) {
            into[i] += values[i];
        }
    }

    static long[] all(int n) {
        long[] indices = new long[n];
        for (int i = 0; i < n; i++) {
            indices[i] = i;
        }
        return indices;
    }
}
