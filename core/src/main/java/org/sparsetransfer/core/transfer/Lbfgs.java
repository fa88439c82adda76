package org.sparsetransfer.core.transfer;

/**
 * Limited-memory BFGS for smooth unconstrained minimization: Nocedal and Wright, <i>Numerical
 * Optimization</i> (2nd ed.), Algorithm 7.4 (the two-loop recursion, H0 = (s'y / y'y) I) with the
 * line search of Algorithms 3.5 and 3.6 (strong Wolfe conditions, c1 = 1e-4, c2 = 0.9; cubic
 * interpolation in the zoom, safeguarded by bisection).
 *
 * <p>Written here because no library the project may use offers it to Java: Breeze's L-BFGS
 * (Apache-2.0, the one Spark's MLlib uses) takes its objective as a Scala {@code DiffFunction},
 * which Java cannot implement (scalac bridges its primitive-returning {@code apply}; javac
 * refuses both an implementation and a subclass of its concrete classes), Smile's is GPL-3, and
 * Commons Math has none. It is tested against a reference fit (scikit-learn's) in
 * {@code LinearProbeTest}.
 */
public final class Lbfgs {
    /** An objective: its value at {@code x}, with its gradient written into {@code gradient}. */
    @FunctionalInterface
    public interface Objective {
        double evaluate(double[] x, double[] gradient);
    }

    /**
     * When to stop: after {@code maxIterations}, or once the largest gradient component is at most
     * {@code gradientTolerance}, or the relative decrease of the value over an iteration is at most
     * {@code valueTolerance}; the last two count as converged.
     */
    public record Settings(int memory, int maxIterations, double gradientTolerance, double valueTolerance) {
        public static final Settings DEFAULT = new Settings(10, 1000, 1e-6, 1e-12);

        public Settings {
            if (memory < 1 || maxIterations < 1 || !(gradientTolerance >= 0) || !(valueTolerance >= 0)) {
                throw new IllegalArgumentException("bad L-BFGS settings: " + memory + ", " + maxIterations + ", " + gradientTolerance
                        + ", " + valueTolerance);
            }
        }
    }

    /** Why a minimization stopped. */
    public enum Stop {
        /** The gradient's largest component fell to the tolerance. */
        GRADIENT,
        /** The value stopped decreasing (relative decrease at most the tolerance). */
        VALUE,
        /** The iteration limit came first: not converged. */
        ITERATIONS,
        /** No step along the search direction satisfied the Wolfe conditions: not converged. */
        LINE_SEARCH
    }

    /** The minimizer found, its value and gradient's largest component, the work done, and why it stopped. */
    public record Result(double[] x, double value, double gradientMax, int iterations, int evaluations, Stop stop) {
        public boolean converged() {
            return stop == Stop.GRADIENT || stop == Stop.VALUE;
        }
    }

    private static final double C1 = 1e-4;
    private static final double C2 = 0.9;
    private static final int LINE_SEARCH_EVALUATIONS = 40;

    private Lbfgs() {}

    /** Minimizes {@code f} from {@code start} (left unchanged). */
    public static Result minimize(Objective f, double[] start, Settings settings) {
        int n = start.length;
        double[] x = start.clone();
        double[] g = new double[n];
        double value = f.evaluate(x, g);
        int evaluations = 1;
        checkFinite(value, g);
        double[][] s = new double[settings.memory()][];
        double[][] y = new double[settings.memory()][];
        double[] rho = new double[settings.memory()];
        int stored = 0;
        int newest = -1;
        double[] direction = new double[n];
        double[] alpha = new double[settings.memory()];
        for (int iteration = 0; ; iteration++) {
            double gMax = maxAbs(g);
            if (gMax <= settings.gradientTolerance()) {
                return new Result(x, value, gMax, iteration, evaluations, Stop.GRADIENT);
            }
            if (iteration == settings.maxIterations()) {
                return new Result(x, value, gMax, iteration, evaluations, Stop.ITERATIONS);
            }
            // The two-loop recursion: direction = -H g.
            System.arraycopy(g, 0, direction, 0, n);
            for (int k = 0; k < stored; k++) {
                int i = Math.floorMod(newest - k, settings.memory());
                alpha[i] = rho[i] * dot(s[i], direction);
                axpy(-alpha[i], y[i], direction);
            }
            double gamma = stored == 0 ? 1.0 / Math.max(1.0, norm(g)) : dot(s[newest], y[newest]) / dot(y[newest], y[newest]);
            scale(direction, gamma);
            for (int k = stored - 1; k >= 0; k--) {
                int i = Math.floorMod(newest - k, settings.memory());
                double beta = rho[i] * dot(y[i], direction);
                axpy(alpha[i] - beta, s[i], direction);
            }
            scale(direction, -1);
            double slope = dot(g, direction);
            if (!(slope < 0)) { // not a descent direction (lost curvature information): restart from the gradient
                stored = 0;
                System.arraycopy(g, 0, direction, 0, n);
                scale(direction, -1.0 / Math.max(1.0, norm(g)));
                slope = dot(g, direction);
            }
            LineSearch search = new LineSearch(f, x, value, direction, slope);
            boolean found = search.run();
            evaluations += search.evaluations;
            if (!found) {
                return new Result(x, value, gMax, iteration, evaluations, Stop.LINE_SEARCH);
            }
            double[] step = new double[n];
            double[] change = new double[n];
            for (int i = 0; i < n; i++) {
                step[i] = search.x[i] - x[i];
                change[i] = search.g[i] - g[i];
            }
            double previous = value;
            x = search.x;
            g = search.g;
            value = search.value;
            double curvature = dot(step, change);
            if (curvature > 1e-10 * norm(step) * norm(change)) { // keep only pairs that keep H positive definite
                newest = (newest + 1) % settings.memory();
                s[newest] = step;
                y[newest] = change;
                rho[newest] = 1.0 / curvature;
                stored = Math.min(stored + 1, settings.memory());
            }
            if ((previous - value) <= settings.valueTolerance() * Math.max(Math.max(Math.abs(previous), Math.abs(value)), 1.0)) {
                return new Result(x, value, maxAbs(g), iteration + 1, evaluations, Stop.VALUE);
            }
        }
    }

    /** Algorithms 3.5 and 3.6: a step along {@code direction} satisfying the strong Wolfe conditions. */
    private static final class LineSearch {
        private final Objective f;
        private final double[] start;
        private final double value0;
        private final double slope0;
        private final double[] direction;
        int evaluations;
        double[] x;
        double[] g;
        double value;

        LineSearch(Objective f, double[] start, double value0, double[] direction, double slope0) {
            this.f = f;
            this.start = start;
            this.value0 = value0;
            this.direction = direction;
            this.slope0 = slope0;
        }

        /** One evaluation at step {@code a}: the value, and the slope along the direction (the point kept as the candidate). */
        private double[] at(double a) {
            double[] point = start.clone();
            axpy(a, direction, point);
            double[] gradient = new double[point.length];
            double v = f.evaluate(point, gradient);
            evaluations++;
            x = point;
            g = gradient;
            value = v;
            return new double[] {v, dot(gradient, direction)};
        }

        /** From the trial step 1 (the quasi-Newton step, which L-BFGS's scaling makes well sized). */
        boolean run() {
            double aPrev = 0;
            double vPrev = value0;
            double dPrev = slope0;
            double a = 1.0;
            for (int i = 0; evaluations < LINE_SEARCH_EVALUATIONS; i++) {
                double[] p = at(a);
                if (!Double.isFinite(p[0])) { // overshot into overflow: back off
                    a = (aPrev + a) / 2;
                    continue;
                }
                if (p[0] > value0 + C1 * a * slope0 || (i > 0 && p[0] >= vPrev)) {
                    return zoom(aPrev, vPrev, dPrev, a, p[0], p[1]);
                }
                if (Math.abs(p[1]) <= -C2 * slope0) {
                    return true;
                }
                if (p[1] >= 0) {
                    return zoom(a, p[0], p[1], aPrev, vPrev, dPrev);
                }
                aPrev = a;
                vPrev = p[0];
                dPrev = p[1];
                a *= 2;
            }
            return false;
        }

        private boolean zoom(double lo, double vLo, double dLo, double hi, double vHi, double dHi) {
            while (evaluations < LINE_SEARCH_EVALUATIONS) {
                double a = cubicMinimizer(lo, vLo, dLo, hi, vHi, dHi);
                double width = Math.abs(hi - lo);
                double min = Math.min(lo, hi);
                double max = Math.max(lo, hi);
                if (!Double.isFinite(a) || a < min + 0.1 * width || a > max - 0.1 * width) {
                    a = (lo + hi) / 2; // safeguard: bisect
                }
                double[] p = at(a);
                if (p[0] > value0 + C1 * a * slope0 || p[0] >= vLo) {
                    hi = a;
                    vHi = p[0];
                    dHi = p[1];
                } else {
                    if (Math.abs(p[1]) <= -C2 * slope0) {
                        return true;
                    }
                    if (p[1] * (hi - lo) >= 0) {
                        hi = lo;
                        vHi = vLo;
                        dHi = dLo;
                    }
                    lo = a;
                    vLo = p[0];
                    dLo = p[1];
                }
                if (width < 1e-16 * Math.max(1, Math.abs(lo))) {
                    break;
                }
            }
            // Out of evaluations: accept the best point with sufficient decrease, if any.
            if (vLo < value0 + C1 * lo * slope0 && lo > 0) {
                at(lo);
                return true;
            }
            return false;
        }

        /** The minimizer of the cubic through (a, va, da) and (b, vb, db) (Nocedal and Wright, eq. 3.59). */
        private static double cubicMinimizer(double a, double va, double da, double b, double vb, double db) {
            double d1 = da + db - 3 * (va - vb) / (a - b);
            double disc = d1 * d1 - da * db;
            if (disc < 0) {
                return Double.NaN;
            }
            double d2 = Math.signum(b - a) * Math.sqrt(disc);
            return b - (b - a) * (db + d2 - d1) / (db - da + 2 * d2);
        }
    }

    private static void checkFinite(double value, double[] g) {
        if (!Double.isFinite(value) || !Double.isFinite(maxAbs(g))) {
            throw new ArithmeticException("the objective is not finite at iteration 0");
        }
    }

    static double dot(double[] a, double[] b) {
        double sum = 0;
        for (int i = 0; i < a.length; i++) {
            sum += a[i] * b[i];
        }
        return sum;
    }

    private static void axpy(double a, double[] x, double[] y) {
        for (int i = 0; i < x.length; i++) {
            y[i] += a * x[i];
        }
    }

    private static void scale(double[] x, double a) {
        for (int i = 0; i < x.length; i++) {
            x[i] *= a;
        }
    }

    private static double norm(double[] x) {
        return Math.sqrt(dot(x, x));
    }

    private static double maxAbs(double[] x) {
        double max = 0;
        for (double v : x) {
            max = Math.max(max, Math.abs(v));
        }
        return max;
    }
}
