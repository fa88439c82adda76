package org.sparsetransfer.core.transfer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sparsetransfer.core.checkpoint.PyTorchReference;
import org.sparsetransfer.core.task.Metric;
import org.sparsetransfer.core.train.TrainingData;

/**
 * The L-BFGS probe reaches the optimum of multinomial logistic regression: its objective equals
 * scikit-learn's fit of the same problem (Debian python3-sklearn, the reference), its weights are
 * scikit-learn's, and it says whether it converged; the validation folds never mix with each other
 * and the penalty is chosen from them.
 */
class LinearProbeTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    /** Three Gaussian classes in 8 dimensions that overlap (so the optimum is finite without the penalty's help). */
    private record Problem(float[] x, int[] y, int n, int d, int k) {}

    private static Problem blobs(int n, long seed) {
        int d = 8;
        int k = 3;
        Random random = new Random(seed);
        float[] x = new float[n * d];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = i % k;
            for (int j = 0; j < d; j++) {
                x[i * d + j] = (float) (random.nextGaussian() * 1.5 + (j % k == y[i] ? 1.0 : 0.0) + (j == 0 ? 3 : 0));
            }
        }
        return new Problem(x, y, n, d, k);
    }

    @Test
    void theProbeReachesScikitLearnsOptimumAndSaysItConverged() throws Exception {
        Problem p = blobs(300, 1);
        double lambda = 1e-2;
        try (NDManager manager = NDManager.newBaseManager(Device.cpu());
                TrainingData data = TrainingData.of(manager.create(p.x(), new Shape(p.n(), p.d())), p.y(), p.k())) {
            LinearProbe.Fit fit = LinearProbe.fit(data, null, p.d(), lambda, null, new Lbfgs.Settings(10, 1000, 1e-9, 0));
            assertTrue(fit.converged(), "converged: " + fit.result());
            assertTrue(fit.result().gradientMax() < 1e-6, "at the optimum: " + fit.result());

            Path in = dir.resolve("data.json");
            Path out = dir.resolve("fit.json");
            double[][] rows = new double[p.n()][p.d()];
            for (int i = 0; i < p.n(); i++) {
                for (int j = 0; j < p.d(); j++) {
                    rows[i][j] = p.x()[i * p.d() + j];
                }
            }
            JSON.writeValue(in.toFile(), Map.of("x", rows, "y", p.y(), "lambda", lambda));
            PyTorchReference.script("logistic_reference.py", in.toString(), out.toString());
            JsonNode reference = JSON.readTree(out.toFile());
            double objective = reference.path("objective").asDouble();
            assertEquals(objective, fit.result().value(), 1e-9 * Math.abs(objective), "the optimum's value, scikit-learn's");
            JsonNode coef = reference.path("coef");
            double maxDiff = 0;
            for (int c = 0; c < p.k(); c++) {
                for (int j = 0; j < p.d(); j++) {
                    maxDiff = Math.max(maxDiff, Math.abs(coef.get(c).get(j).asDouble() - fit.parameters()[j * p.k() + c]));
                }
            }
            assertTrue(maxDiff < 1e-4, "the weights are scikit-learn's: largest difference " + maxDiff);
            // The bias is unpenalized, so only its differences between classes are determined.
            for (int c = 1; c < p.k(); c++) {
                double ours = fit.parameters()[p.d() * p.k() + c] - fit.parameters()[p.d() * p.k()];
                double theirs = reference.path("intercept").get(c).asDouble() - reference.path("intercept").get(0).asDouble();
                assertEquals(theirs, ours, 1e-4);
            }

            LinearProbe.Fit stopped = LinearProbe.fit(data, null, p.d(), lambda, null, new Lbfgs.Settings(10, 2, 1e-9, 0));
            assertFalse(stopped.converged(), "two iterations are not enough");
            assertEquals(Lbfgs.Stop.ITERATIONS, stopped.result().stop());
            assertTrue(stopped.result().value() > fit.result().value());
        }
    }

    @Test
    void validationFoldsAreStratifiedDisjointAndThePenaltyIsChosenFromThem() throws Exception {
        int[] labels = new int[200];
        for (int i = 0; i < labels.length; i++) {
            labels[i] = i % 4;
        }
        Validation holdout = Validation.of(labels, 4, new Validation.Settings(0.2, 20, 5), 7);
        assertFalse(holdout.crossValidated());
        assertEquals(40, holdout.folds().get(0).validation().length, "20% of each class of 50");
        assertEquals(160, holdout.folds().get(0).train().length);
        org.junit.jupiter.api.Assertions.assertArrayEquals(holdout.folds().get(0).validation(),
                Validation.of(labels, 4, new Validation.Settings(0.2, 20, 5), 7).folds().get(0).validation(), "seeded");
        int[] fewShot = new int[40]; // 10 per class: too few for a hold-out of min_per_class 20
        for (int i = 0; i < fewShot.length; i++) {
            fewShot[i] = i % 4;
        }
        Validation folds = Validation.of(fewShot, 4, new Validation.Settings(0.2, 20, 5), 7);
        assertTrue(folds.crossValidated());
        assertEquals(5, folds.folds().size());
        java.util.Set<Long> scored = new java.util.TreeSet<>();
        for (Validation.Fold f : folds.folds()) {
            assertEquals(8, f.validation().length, "each fold holds 2 of each class");
            for (long v : f.validation()) {
                assertTrue(scored.add(v), "every example is scored once");
                assertTrue(java.util.Arrays.stream(f.train()).noneMatch(t -> t == v), "never trained on where scored");
            }
        }
        assertEquals(40, scored.size());

        // The choice is the best mean validation score (the larger penalty on a tie).
        Problem p = blobs(240, 2);
        try (NDManager manager = NDManager.newBaseManager(Device.cpu());
                TrainingData data = TrainingData.of(manager.create(p.x(), new Shape(p.n(), p.d())), p.y(), p.k())) {
            Validation v = Validation.of(p.y(), p.k(), new Validation.Settings(0.25, 20, 5), 3);
            LinearProbe.Selection chosen = LinearProbe.choosePenalty(data, p.d(), v, List.of(1e-4, 1e-2, 100.0, 1000.0), Metric.TOP1,
                    Lbfgs.Settings.DEFAULT);
            assertEquals(4, chosen.scores().size());
            double best = chosen.scores().values().stream().mapToDouble(Double::doubleValue).max().orElseThrow();
            assertEquals(best, chosen.score());
            assertEquals(best, chosen.scores().get(chosen.lambda()));
            double largestBest = chosen.scores().entrySet().stream().filter(e -> e.getValue() == best).mapToDouble(Map.Entry::getKey)
                    .max().orElseThrow();
            assertEquals(largestBest, chosen.lambda(), "the best score, the larger penalty on a tie: " + chosen.scores());
        }
    }
}
