package org.sparsetransfer.core.config;

import org.sparsetransfer.core.io.FileSource;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sparsetransfer.core.Synthetic;
import org.sparsetransfer.core.data.DemoSources;
import org.sparsetransfer.core.data.ImageSet;
import org.sparsetransfer.core.experiment.TransferExperiment;
import org.sparsetransfer.core.experiment.UpstreamSchedules;
import org.sparsetransfer.core.method.MethodInternals;
import org.sparsetransfer.core.method.PruningMethod;
import org.sparsetransfer.core.method.PruningMethods;
import org.sparsetransfer.core.prune.Mask;
import org.sparsetransfer.core.task.TaskRegistry;
import org.sparsetransfer.core.train.Scores;
import org.sparsetransfer.core.train.TrainingLoop;
import org.sparsetransfer.core.train.TrainingSchedule;
import org.sparsetransfer.core.vision.Augmentation;
import org.sparsetransfer.core.vision.IngestPlan;
import org.sparsetransfer.core.vision.Resampling;
import org.sparsetransfer.core.vision.RgbImage;
import org.sparsetransfer.core.vision.SyntheticImages;
import org.sparsetransfer.core.vision.TransferSuite;

/**
 * An id must mean one content: each stage's semantics version ({@link Semantics}) is held to a
 * fingerprint of what decides the stage's output, computed here through the code the stages run:
 * the splits of generated datasets, every seed a run derives, batch orders, schedules (learning
 * rate and pruning target per step), data-parallel shards and rounds, the masks the pruners choose
 * on fixed weights, COLT's segments and intersections, augmentation of fixed images, and how
 * scores are counted. All of it is integer or strict Java arithmetic, so the fingerprints are the
 * same on every machine (libtorch's kernels are not in them; see {@link Semantics}).
 *
 * <p>When a fingerprint changes, the change altered what that stage produces from the same
 * config. If that is meant, bump the stage's version in {@link Semantics} and add the line this
 * test prints to {@code semantics-fingerprints.txt}; a warehouse then recomputes the stage instead
 * of reusing outputs of the old code. If it is not meant, the change has a bug.
 */
class SemanticsTest {
    private static final String RECORDED = "/sparse-transfer/semantics-fingerprints.txt";

    @TempDir
    static Path dir;

    private static ExperimentConfig demo;
    private static ExperimentConfig images;

    @BeforeAll
    static void generatedData() throws IOException {
        demo = new ExperimentConfig();
        demo.data.fashionMnist = idxPair(dir.resolve("fashion"), 400, 120, 1).toString();
        demo.data.mnist = idxPair(dir.resolve("mnist"), 400, 120, 2).toString();
        demo.data.digits = digitsCsv(dir.resolve("digits.csv.gz"), 90, 3).toString();
        demo.data.upstreamTrain = 250;
        demo.data.upstreamVal = 50;
        demo.data.upstreamTest = 100;
        demo.data.taskTrain = 150;
        demo.data.taskTest = 80;
        demo.data.fewshotPerClass = 4;

        images = new ExperimentConfig();
        images.model = "resnet18";
        images.data.source = org.sparsetransfer.core.config.DataSource.IMAGES;
        SyntheticImages.imageFolder(dir.resolve("upstream"), 3, 7, 2, 40, 36, 4);
        SyntheticImages.cifar10(dir.resolve("tasks/cifar10"), 6, 10, 5);
        caltechLike(dir.resolve("tasks/caltech101"), TransferSuite.get("caltech101", "test"), 6);
        images.data.images.upstream = dir.resolve("upstream").toString();
        images.data.images.tasksRoot = dir.resolve("tasks").toString();
        images.data.images.upstreamClasses = 3;
        images.data.images.upstreamVal = 5;
        images.data.images.upstreamTrain = 21 - 5;
        images.data.images.imageSize = 32;
        images.data.images.resize = 36;
    }

    @Test
    void everyStageHasTheFingerprintRecordedForItsVersion() throws IOException {
        Map<String, String> recorded = recorded();
        List<String> problems = new ArrayList<>();
        for (Map.Entry<String, Integer> e : Semantics.versions().entrySet()) {
            String stage = e.getKey();
            int version = e.getValue();
            String now = fingerprint(stage, demo, images);
            String line = stage + " " + version + " " + now;
            String expected = recorded.get(stage + " " + version);
            if (expected == null) {
                problems.add("no fingerprint is recorded for " + stage + " version " + version + "; add the line: " + line);
            } else if (!expected.equals(now)) {
                problems.add("what " + stage + " produces has changed (fingerprint " + now + ", recorded for version " + version
                        + ": " + expected + "). If that is meant, bump " + stage + " to version " + (version + 1) + " in "
                        + Semantics.class.getSimpleName() + " and add the line: " + stage + " " + (version + 1) + " " + now
                        + "; if not, the change altered results by mistake");
            }
        }
        if (!problems.isEmpty()) {
            fail(String.join("\n", problems));
        }
    }

    @Test
    void aFingerprintChangesWithWhatItCovers() throws IOException {
        ExperimentConfig otherSplit = copy(demo);
        otherSplit.data.splitSeed++;
        assertNotEquals(fingerprint(Semantics.DATA, demo, images), fingerprint(Semantics.DATA, otherSplit, images));
        ExperimentConfig otherSeed = copy(demo);
        otherSeed.seed++;
        List<String> seeded = new ArrayList<>(List.of(Semantics.UPSTREAM));
        PruningMethods.all().stream().filter(m -> m != PruningMethods.dense()).forEach(m -> seeded.add(Semantics.prune(m)));
        for (String stage : seeded) {
            assertNotEquals(fingerprint(stage, demo, images), fingerprint(stage, otherSeed, images), stage + " covers the seed");
        }
        ExperimentConfig otherGmp = copy(demo);
        setRecipe(otherGmp, "gmp_star", "interval: 51");
        assertNotEquals(fingerprint(stage("gmp_star"), demo, images), fingerprint(stage("gmp_star"), otherGmp, images));
        assertEquals(fingerprint(stage("gmp"), demo, images), fingerprint(stage("gmp"), otherGmp, images), "GMP* settings are not GMP's");
        // Each new method's recipe is in its own fingerprint and in no other method's.
        for (String[] change : new String[][] {{"acdc", "cycles: 2"}, {"rigl", "alpha: 0.4"}, {"nm", "group_size: 8"}}) {
            ExperimentConfig other = copy(demo);
            setRecipe(other, change[0], change[1]);
            for (PruningMethod m : PruningMethods.all()) {
                if (m == PruningMethods.dense()) {
                    continue;
                }
                String stage = Semantics.prune(m);
                if (m.key().equals(change[0])) {
                    assertNotEquals(fingerprint(stage, demo, images), fingerprint(stage, other, images), change[0] + ": " + change[1]);
                } else {
                    assertEquals(fingerprint(stage, demo, images), fingerprint(stage, other, images), change[0] + "'s recipe in " + stage);
                }
            }
        }
        ExperimentConfig otherTransfer = copy(demo);
        otherTransfer.transfer.linear.lr *= 2;
        assertNotEquals(fingerprint(Semantics.TRANSFER, demo, images), fingerprint(Semantics.TRANSFER, otherTransfer, images));
        assertEquals(fingerprint(Semantics.UPSTREAM, demo, images), fingerprint(Semantics.UPSTREAM, copy(demo), images),
                "the same config and code give the same fingerprint");
    }

    /**
     * Version 3 of oneshot, gmp_star, gmp, imp and colt changed the seed of each pruning run (it
     * derives from the method's key, no longer from its place in the enum of methods that the
     * registry replaced), and nothing else: with the old seeds put back, each stage's trace is
     * version 2's recorded fingerprint.
     */
    @Test
    void versionThreeOfTheFirstMethodsChangedOnlyTheirSeeds() throws IOException {
        Map<String, String> recorded = recorded();
        List<String> ordinals = List.of("dense", "oneshot", "gmp_star", "gmp", "imp", "colt"); // the old enum's order
        MethodInternals.Seeds versionTwo = (key, sparsity, settings) -> new TrainingLoop.Settings(settings.batchSize(),
                settings.momentum(), settings.weightDecay(), demo.seed * 31 + ordinals.indexOf(key) * 1_000_003L + Math.round(sparsity * 1e4),
                settings.distillation());
        for (String key : ordinals.subList(1, ordinals.size())) {
            String stage = stage(key);
            assertEquals(3, Semantics.version(stage), stage);
            assertEquals(recorded.get(stage + " 2"), fingerprint(stage, demo, images, versionTwo), stage + " with version 2's seeds");
            assertNotEquals(recorded.get(stage + " 2"), fingerprint(stage, demo, images), stage + " with its own seeds");
        }
    }

    @Test
    void theFirstBumpLeftNoIdOfTheVersionOneWarehouse() {
        // Ids a warehouse of conf/tiny.yaml held at version 1 of every stage. Version 2 of data, upstream and
        // transfer (Pillow's resizing) changed what those stages produce, so none of them may name an output now:
        // a warehouse of the old code recomputes instead of reusing them. The pruned ids change through their parents.
        ExperimentConfig tiny = ConfigLoader.load(Path.of("../conf/tiny.yaml"));
        ExperimentIds ids = new ExperimentIds(tiny);
        assertEquals(2, Semantics.version(Semantics.DATA));
        Map<String, String> versionOne = Map.of(
                "data", "bbcec8bb00fe18c1", "dense", "dense-ad1eb54d2fce964f", "rewind", "rewind-4be5f4d11578eee1",
                "oneshot", "oneshot-9000-de1d1fdf700644ac", "gmp_star", "gmp_star-8000-70397cc7a00db32a",
                "gmp", "gmp-9500-81694cd130c41a1b", "imp", "imp-9500-2adadc9d18e18801", "colt", "colt-9000-456ee59d89c57231",
                "colt_round", "colt-round01-70a0c3e943a1d207", "transfer", "b70b69b7cc59190d");
        Map<String, String> now = tinyIds(tiny, ids);
        versionOne.forEach((what, old) -> assertNotEquals(old, now.get(what), what + " id of version 1 is not reused"));
    }

    @Test
    void theSeedBumpGaveThePrunedIdsNewValuesAndLeftTheRestAlone() {
        // Ids of conf/tiny.yaml with the pruning methods at version 2 (before the registry of methods), and now.
        // Version 3 of oneshot, gmp_star, gmp, imp and colt (each run's seed derives from its method's key) gives
        // their checkpoints and COLT's rounds new ids, so a warehouse of version 2 retrains them; the data, the
        // dense model, IMP's rewind point (a dense-run checkpoint) and the transfer settings are unchanged and reused.
        ExperimentConfig tiny = ConfigLoader.load(Path.of("../conf/tiny.yaml"));
        Map<String, String> now = tinyIds(tiny, new ExperimentIds(tiny));
        Map<String, String> unchanged = Map.of(
                "data", "edf60dee82f596fc", "dense", "dense-91c52457a9479daa", "rewind", "rewind-3bcf3ac25be53479",
                "transfer", "1d3a84b44e34b5bc");
        Map<String, String> versionTwo = Map.of(
                "oneshot", "oneshot-9000-579404a9d71617b2", "gmp_star", "gmp_star-8000-f5e3ba9b9628862b",
                "gmp", "gmp-9500-30f73c374ea1d05d", "imp", "imp-9500-25b2f9a359851296", "colt", "colt-9000-1a6027205379b367",
                "colt_round", "colt-round01-0f36cc5091190a3c");
        // Printed by this test's own computation (tinyIds) after the bump; the same hashes as version 2's keys with
        // "semantics": 3 in place of 2, so the bump is the only change to how these ids are made.
        Map<String, String> versionThree = Map.of(
                "oneshot", "oneshot-9000-0041d435e9317932", "gmp_star", "gmp_star-8000-dde4220284d04e17",
                "gmp", "gmp-9500-d24f449f2a5ee03c", "imp", "imp-9500-30c74d521bb2e686", "colt", "colt-9000-fb7575e41f1630e7",
                "colt_round", "colt-round01-8c5c97118f66f908");
        unchanged.forEach((what, id) -> assertEquals(id, now.get(what), what + " id is unchanged"));
        versionTwo.forEach((what, old) -> assertNotEquals(old, now.get(what), what + " id of version 2 is not reused"));
        versionThree.forEach((what, id) -> assertEquals(id, now.get(what), what + " id of version 3"));
    }

    /** The ids of a warehouse of {@code tiny}: one checkpoint of each of its methods, the intermediate ones, data and transfer. */
    private static Map<String, String> tinyIds(ExperimentConfig tiny, ExperimentIds ids) {
        return Map.of(
                "data", ids.dataHash(), "dense", ids.denseId(), "rewind", MethodInternals.impRewindId(ids, tiny, tiny.data.upstreamTrain),
                "oneshot", ids.prunedId(method("oneshot"), 0.9), "gmp_star", ids.prunedId(method("gmp_star"), 0.8),
                "gmp", ids.prunedId(method("gmp"), 0.95), "imp", ids.prunedId(method("imp"), 0.95),
                "colt", ids.prunedId(method("colt"), 0.9), "colt_round", MethodInternals.coltRoundId(ids, tiny, 1),
                "transfer", ids.transferSettingsHash());
    }

    private static PruningMethod method(String key) {
        return MethodInternals.method(key);
    }

    /** The semantics stage of method {@code key}. */
    private static String stage(String key) {
        return Semantics.prune(method(key));
    }

    /** Merges {@code yaml} into the recipe of method {@code key} in {@code config}, as its section in a config file would. */
    private static void setRecipe(ExperimentConfig config, String key, String yaml) throws IOException {
        config.pruning.setRecipe(key, ConfigLoader.yamlMapper().readerForUpdating(config.pruning.recipes().get(key)).readValue(yaml));
        ConfigLoader.validate(config, "a test");
    }

    /** The fingerprint of {@code stage} for a demo config and an image config. */
    static String fingerprint(String stage, ExperimentConfig demo, ExperimentConfig images) {
        return fingerprint(stage, demo, images, MethodInternals.CURRENT);
    }

    /** As {@link #fingerprint(String, ExperimentConfig, ExperimentConfig)}, the pruning runs' seeds given by {@code seeds}. */
    static String fingerprint(String stage, ExperimentConfig demo, ExperimentConfig images, MethodInternals.Seeds seeds) {
        Trace t = new Trace();
        if (stage.equals(Semantics.DATA)) {
            data(t, demo, images);
        } else if (stage.equals(Semantics.UPSTREAM)) {
            upstream(t, demo, images);
        } else if (stage.equals(Semantics.TRANSFER)) {
            transfer(t, demo, images);
        } else {
            MethodInternals.trace(t, pruneMethod(stage), demo, seeds);
        }
        return t.hex();
    }

    /** The registered pruning method whose stage is {@code stage}. */
    private static PruningMethod pruneMethod(String stage) {
        return PruningMethods.all().stream().filter(m -> m != PruningMethods.dense()).filter(m -> Semantics.prune(m).equals(stage))
                .findFirst().orElseThrow(() -> new AssertionError("no fingerprint for stage " + stage + "; add its trace to "
                        + MethodInternals.class.getName()));
    }

    /** The splits of every dataset, from generated source files in the real formats. */
    private static void data(Trace t, ExperimentConfig demo, ExperimentConfig images) {
        ExperimentConfig.Data d = demo.data;
        DemoSources sources = new DemoSources(FileSource.local(), d.fashionMnist, d.mnist, d.digits);
        TaskRegistry.Splits upstream = TaskRegistry.upstream(sources, d);
        t.add("upstream", upstream.train()).add("val", upstream.val()).add("test", upstream.test());
        for (String task : TaskRegistry.tasks().keySet()) {
            TaskRegistry.Splits s = TaskRegistry.downstream(task, sources, d);
            t.add(task + ".metric", TaskRegistry.metric(demo, task, "test").key()).add(task + ".train", s.train()).add(task + ".test", s.test());
        }
        List<IngestPlan> plans = List.of(IngestPlan.upstream(FileSource.local(), images.data.images, images.data.splitSeed),
                IngestPlan.task(FileSource.local(), "cifar10", images.data.images, images.data.splitSeed),
                IngestPlan.task(FileSource.local(), "caltech101", images.data.images, images.data.splitSeed));
        for (IngestPlan plan : plans) {
            t.add(plan.dataset() + ".classes", plan.numClasses()).add(plan.dataset() + ".counts", plan.counts())
                    .add(plan.dataset() + ".val", plan.val());
            for (IngestPlan.Unit unit : plan.units()) {
                t.add("unit", dir.relativize(Path.of(unit.file())) + " " + unit.kind() + " " + unit.split() + " " + unit.label()
                        + " " + unit.index());
            }
            if (!plan.dataset().equals("caltech101")) { // its generated files are names only
                IngestPlan.Stored first = IngestPlan.decode(FileSource.local(), plan.units().get(0), images.data.images.resize,
                        Resampling.Filter.BILINEAR, plan.val()).stored().get(0);
                t.add("stored", first.split() + " " + first.index() + " " + first.label()).add("pixels", first.image().planes());
            }
        }
    }

    /** Dense training: its schedule and settings, batch order, data-parallel plan, and the input transforms. */
    private static void upstream(Trace t, ExperimentConfig demo, ExperimentConfig images) {
        UpstreamSchedules plan = new UpstreamSchedules(demo, demo.data.upstreamTrain);
        TrainingSchedule schedule = plan.denseSchedule();
        t.add("schedule", schedule).add("settings", plan.denseSettings());
        t.add("order", MethodInternals.batches(demo.data.upstreamTrain, plan.denseSettings()));
        // The dense run's rounds are cut where IMP keeps its rewind point.
        MethodInternals.dataParallel(t, schedule, plan.denseSettings(), MethodInternals.impRewindStep(demo, plan));
        inputs(t, images);
    }

    /** Transfer: each regime's schedule and settings per seed, batch orders, the input transforms, and how scores count. */
    private static void transfer(Trace t, ExperimentConfig demo, ExperimentConfig images) {
        for (ExperimentConfig.Regime recipe : List.of(demo.transfer.linear, demo.transfer.full)) {
            t.add("schedule", TransferExperiment.schedule(recipe, demo.data.taskTrain, demo.transfer.batchSize));
            for (long seed : demo.transfer.seeds) {
                TrainingLoop.Settings settings = TransferExperiment.settings(demo, recipe, seed);
                t.add("settings", settings).add("order", MethodInternals.batches(demo.data.taskTrain, settings));
            }
        }
        inputs(t, images);
        int[] truth = new int[50];
        int[] predicted = new int[50];
        SplittableRandom random = new SplittableRandom(7);
        for (int i = 0; i < truth.length; i++) {
            truth[i] = random.nextInt(5);
            predicted[i] = random.nextInt(3) == 0 ? random.nextInt(5) : truth[i];
        }
        Scores scores = Scores.of(predicted, truth, 5);
        t.add("scores", scores.top1() + " " + scores.meanPerClass() + " " + scores.examples());
    }

    /** The training and evaluation transforms of image inputs, on generated images. */
    private static void inputs(Trace t, ExperimentConfig images) {
        SplittableRandom random = new SplittableRandom(11);
        int resize = images.data.images.resize;
        int crop = images.data.images.imageSize;
        for (int i = 0; i < 3; i++) {
            RgbImage stored = Augmentation.store(SyntheticImages.image(i, 40 + 7 * i, 36, random), resize, Resampling.Filter.BILINEAR);
            t.add("stored", stored.planes());
            for (int epoch = 0; epoch < 2; epoch++) {
                t.add("train", Augmentation.train(stored, crop, Augmentation.random(images.seed, epoch, i),
                        Resampling.Filter.BILINEAR, Augmentation.Normalization.IMAGENET));
            }
            t.add("test", Augmentation.test(stored, resize, crop, Resampling.Filter.BILINEAR, Augmentation.Normalization.IMAGENET));
        }
    }

    private static Map<String, String> recorded() throws IOException {
        Map<String, String> recorded = new TreeMap<>();
        try (InputStream in = SemanticsTest.class.getResourceAsStream(RECORDED)) {
            if (in == null) {
                fail(RECORDED + " is missing from the test resources");
            }
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                String[] f = line.strip().split("\\s+");
                if (f.length == 3 && !line.startsWith("#")) {
                    recorded.put(f[0] + " " + f[1], f[2]);
                }
            }
        }
        return recorded;
    }

    private static ExperimentConfig copy(ExperimentConfig config) {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            try (var out = new java.io.ObjectOutputStream(bytes)) {
                out.writeObject(config);
            }
            try (var in = new java.io.ObjectInputStream(new java.io.ByteArrayInputStream(bytes.toByteArray()))) {
                return (ExperimentConfig) in.readObject();
            }
        } catch (IOException | ClassNotFoundException e) {
            throw new AssertionError(e);
        }
    }

    /** A digest of labelled values, exact to the bit. */
    private static final class Trace implements MethodInternals.Sink {
        private final MessageDigest digest;

        Trace() {
            try {
                digest = MessageDigest.getInstance("SHA-256");
            } catch (java.security.NoSuchAlgorithmException e) {
                throw new AssertionError(e);
            }
        }

        @Override
        public Trace add(String label, Object value) {
            digest.update((label + "=" + render(value) + ";").getBytes(StandardCharsets.UTF_8));
            return this;
        }

        private static String render(Object value) {
            if (value instanceof ImageSet s) {
                return s.channels() + "x" + s.height() + "x" + s.width() + " classes " + s.numClasses() + " labels "
                        + Arrays.toString(s.labels()) + " pixels " + HexFormat.of().formatHex(sha(s.pixels()));
            }
            if (value instanceof TrainingSchedule s) {
                StringBuilder b = new StringBuilder(s.totalSteps() + " steps");
                for (int step = 0; step < s.totalSteps(); step++) {
                    b.append(' ').append(Integer.toHexString(Float.floatToIntBits(s.learningRate(step))));
                    s.pruneBefore(step).ifPresent(p -> b.append("/prune ").append(p));
                }
                return b.toString();
            }
            if (value instanceof TrainingLoop.Settings s) {
                return s.batchSize() + " " + Float.floatToIntBits(s.momentum()) + " " + Float.floatToIntBits(s.weightDecay()) + " "
                        + s.seed();
            }
            if (value instanceof Mask m) {
                StringBuilder b = new StringBuilder();
                for (String name : m.tensorNames()) {
                    boolean[] bits = m.bits(name);
                    byte[] packed = new byte[(bits.length + 7) / 8];
                    for (int i = 0; i < bits.length; i++) {
                        packed[i / 8] |= (byte) (bits[i] ? 1 << (i % 8) : 0);
                    }
                    b.append(name).append(':').append(HexFormat.of().formatHex(sha(packed))).append(' ');
                }
                return b.toString();
            }
            if (value instanceof List<?> list) {
                StringBuilder b = new StringBuilder("[");
                list.forEach(e -> b.append(render(e)).append(','));
                return b.append(']').toString();
            }
            if (value instanceof long[] a) {
                return Arrays.toString(a);
            }
            if (value instanceof int[] a) {
                return Arrays.toString(a);
            }
            if (value instanceof double[] a) {
                // 12 digits: values from Math.pow and Math.log, whose last bit the JVM may compute either way
                return Arrays.stream(a).mapToObj(x -> String.format(java.util.Locale.ROOT, "%.12g", x)).toList().toString();
            }
            if (value instanceof float[] a) {
                byte[] bytes = new byte[a.length * 4];
                java.nio.ByteBuffer.wrap(bytes).asFloatBuffer().put(a);
                return HexFormat.of().formatHex(sha(bytes));
            }
            if (value instanceof byte[] a) {
                return HexFormat.of().formatHex(sha(a));
            }
            return String.valueOf(value);
        }

        String hex() {
            return HexFormat.of().formatHex(digest.digest()).substring(0, 32);
        }

        private static byte[] sha(byte[] bytes) {
            try {
                return MessageDigest.getInstance("SHA-256").digest(bytes);
            } catch (java.security.NoSuchAlgorithmException e) {
                throw new AssertionError(e);
            }
        }
    }

    /** Images and labels of 10 classes in IDX files (Fashion-MNIST's and MNIST's layout), gzipped as the packages ship them. */
    private static Path idxPair(Path dir, int train, int test, long seed) throws IOException {
        Files.createDirectories(dir);
        for (String prefix : List.of("train", "t10k")) {
            ImageSet set = Synthetic.squares(prefix, prefix.equals("train") ? train : test, 9, seed, 0);
            int[] labels = set.labels().clone();
            for (int i = 0; i < labels.length; i++) {
                labels[i] = i % 10; // every one of the 10 classes, as the tasks expect
            }
            ByteArrayOutputStream images = new ByteArrayOutputStream();
            DataOutputStream out = new DataOutputStream(images);
            out.writeInt(0x803);
            out.writeInt(set.size());
            out.writeInt(28);
            out.writeInt(28);
            out.write(set.pixels());
            ByteArrayOutputStream labelBytes = new ByteArrayOutputStream();
            DataOutputStream l = new DataOutputStream(labelBytes);
            l.writeInt(0x801);
            l.writeInt(labels.length);
            for (int label : labels) {
                l.writeByte(label);
            }
            gzip(dir.resolve(prefix + "-images-idx3-ubyte.gz"), images.toByteArray());
            gzip(dir.resolve(prefix + "-labels-idx1-ubyte.gz"), labelBytes.toByteArray());
        }
        return dir;
    }

    /** scikit-learn's digits.csv.gz layout: 64 values 0..16, then the label. */
    private static Path digitsCsv(Path file, int rows, long seed) throws IOException {
        SplittableRandom random = new SplittableRandom(seed);
        StringBuilder csv = new StringBuilder();
        for (int r = 0; r < rows; r++) {
            for (int p = 0; p < 64; p++) {
                csv.append(random.nextInt(17)).append(".0,");
            }
            csv.append(r % 10).append('\n');
        }
        gzip(file, csv.toString().getBytes(StandardCharsets.US_ASCII));
        return file;
    }

    /** A per-class-folder task of the suite with {@code extra} test images per class beyond its training quota. */
    private static void caltechLike(Path root, TransferSuite.Task task, int extra) throws IOException {
        SplittableRandom random = new SplittableRandom(6);
        for (int c = 0; c < task.classes(); c++) {
            Path classDir = Files.createDirectories(root.resolve(String.format("class_%03d", c)));
            int count = task.trainPerClass() + 1 + random.nextInt(extra);
            for (int i = 0; i < count; i++) {
                // A few bytes per file: splits read the listing, not the images (the test decodes the upstream's first).
                Files.write(classDir.resolve(String.format("img_%03d.png", i)), new byte[] {(byte) c, (byte) i});
            }
        }
    }

    private static void gzip(Path file, byte[] content) throws IOException {
        try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(file))) {
            out.write(content);
        }
    }
}
