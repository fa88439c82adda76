package org.sparsetransfer.core.method;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.sparsetransfer.core.InvalidInputException;
import org.sparsetransfer.core.config.ConfigLoader;
import org.sparsetransfer.core.config.ExperimentConfig;
import org.sparsetransfer.core.config.ExperimentIds;
import org.sparsetransfer.core.config.Semantics;
import org.sparsetransfer.core.experiment.UpstreamSchedules;
import org.sparsetransfer.core.train.TrainingLoop;

/**
 * The registry of pruning methods: unique keys, recipes that read back from YAML as written,
 * unknown methods refused by name, and ids and seeds of a method that nothing but its own key,
 * recipe and the shared pruning settings decide (not the other methods, their sections, nor any
 * order of methods).
 */
class MethodRegistryTest {
    private static final ObjectMapper YAML = ConfigLoader.yamlMapper();
    /** The methods before the registry (whose ids and seeds must not move with the new ones). */
    private static final List<String> FIRST = List.of("oneshot", "gmp", "gmp_star", "imp", "colt");
    private static final List<String> NEW = List.of("acdc", "rigl", "nm");

    static ExperimentConfig parse(String yaml) {
        return ConfigLoader.parse(new ByteArrayInputStream(yaml.getBytes(StandardCharsets.UTF_8)), "test.yaml");
    }

    static String error(String yaml) {
        return assertThrows(InvalidInputException.class, () -> parse(yaml)).getMessage();
    }

    @Test
    void everyKeyIsUniqueAndNamesOneMethodWithAVersionAndARecipeOfItsOwn() {
        List<String> keys = PruningMethods.keys();
        assertEquals(keys.size(), new HashSet<>(keys).size(), "keys are unique: " + keys);
        assertEquals(List.of("dense", "oneshot", "gmp_star", "gmp", "imp", "colt", "acdc", "rigl", "nm"), keys);
        assertSame(PruningMethods.dense(), PruningMethods.byKey("dense", "test"));
        Set<Class<?>> recipeTypes = new HashSet<>();
        for (PruningMethod m : PruningMethods.all()) {
            assertSame(m, PruningMethods.byKey(m.key(), "test"));
            assertTrue(m.key().matches("[a-z][a-z0-9_]*"), "a key fits configs, ids and tables: " + m.key());
            assertNotNull(m.family(), m.key());
            assertTrue(m.semantics() >= 1, m.key());
            if (m != PruningMethods.dense()) {
                assertEquals(m.semantics(), Semantics.version(Semantics.prune(m)), m.key());
                MethodRecipe recipe = m.defaultRecipe();
                assertNotNull(recipe, m.key() + " has a section pruning." + m.key());
                assertTrue(recipeTypes.add(recipe.getClass()), m.key() + "'s recipe type is its own");
                assertNotSame(recipe, m.defaultRecipe(), m.key() + ": each call gives fresh defaults (configs change theirs)");
            }
        }
        assertEquals(keys.subList(1, keys.size()), new ArrayList<>(PruningMethods.recipeTypes().keySet()));
        assertEquals(PruningMethods.recipeTypes().keySet(), new ExperimentConfig().pruning.recipes().keySet());
    }

    private static void assertNotSame(Object a, Object b, String message) {
        assertTrue(a != b, message);
    }

    @Test
    void everyDefaultRecipeReadsBackFromYamlAsWritten() throws Exception {
        for (PruningMethod m : PruningMethods.all()) {
            MethodRecipe defaults = m.defaultRecipe();
            if (defaults == null) {
                continue;
            }
            // As a stored run's config writes it: every field, the unused alternative of each length as null.
            String section = YAML.writeValueAsString(defaults).replaceFirst("^---\\n", "");
            String yaml = "pruning:\n  " + m.key() + ":\n" + section.lines().map(l -> "    " + l + "\n").reduce("", String::concat);
            ExperimentConfig read = parse(yaml);
            MethodRecipe recipe = read.pruning.recipes().get(m.key());
            assertEquals(defaults.getClass(), recipe.getClass(), m.key());
            assertEquals(json(defaults), json(recipe), m.key() + " from\n" + yaml);
            assertTrue(ExperimentIds.nonDefault(recipe, defaults).isEmpty(), m.key());
            assertEquals(new ExperimentIds(new ExperimentConfig()).prunedId(m, 0.9), new ExperimentIds(read).prunedId(m, 0.9),
                    m.key() + ": its defaults written out are its defaults");
        }
        // The whole default config, written and read back, holds every method's defaults.
        String whole = YAML.writeValueAsString(new ExperimentConfig());
        ExperimentConfig reread = ConfigLoader.parse(new ByteArrayInputStream(whole.getBytes(StandardCharsets.UTF_8)), "stored run");
        for (Map.Entry<String, MethodRecipe> e : new ExperimentConfig().pruning.recipes().entrySet()) {
            assertEquals(json(e.getValue()), json(reread.pruning.recipes().get(e.getKey())), e.getKey());
        }
    }

    @Test
    void aChangedRecipeReadsBackAndChangesOnlyItsMethodsIds() throws Exception {
        ExperimentConfig changed = parse("""
                pruning:
                  acdc: {warmup_epochs: 1.5, cycles: 1, lr: 0.02}
                  rigl: {epochs: 2, delta_t: 7, distribution: uniform}
                  nm: {group_size: 8, sparsities: [0.625, 0.5]}
                """);
        String stored = YAML.writeValueAsString(changed);
        ExperimentConfig reread = ConfigLoader.parse(new ByteArrayInputStream(stored.getBytes(StandardCharsets.UTF_8)), "stored run");
        ExperimentIds base = new ExperimentIds(new ExperimentConfig());
        for (PruningMethod m : PruningMethods.all()) {
            if (m.defaultRecipe() == null) {
                continue;
            }
            assertEquals(json(changed.pruning.recipes().get(m.key())), json(reread.pruning.recipes().get(m.key())), m.key());
            double target = m.targets(changed).get(0);
            assertEquals(new ExperimentIds(changed).prunedId(m, target), new ExperimentIds(reread).prunedId(m, target), m.key());
            if (NEW.contains(m.key())) {
                assertNotEquals(base.prunedId(m, target), new ExperimentIds(changed).prunedId(m, target), m.key() + "'s own recipe");
            } else {
                assertEquals(base.prunedId(m, target), new ExperimentIds(changed).prunedId(m, target), m.key() + ": other recipes");
            }
        }
        AcDcMethod.Recipe acdc = changed.pruning.recipe("acdc", AcDcMethod.Recipe.class);
        assertEquals(null, acdc.warmupSteps, "warmup_epochs replaces the default steps");
        assertEquals(1.5, acdc.warmupEpochs);
        assertEquals(RigLMethod.Distribution.UNIFORM, changed.pruning.recipe("rigl", RigLMethod.Recipe.class).distribution);
        assertEquals(List.of(0.5, 0.625), PruningMethods.byKey("nm", "test").targets(changed), "its own targets, ascending");
    }

    @Test
    void anUnknownMethodIsRefusedNamingTheMethodsThereAre() {
        String keys = PruningMethods.keys().toString();
        assertEquals("[dense, oneshot, gmp_star, gmp, imp, colt, acdc, rigl, nm]", keys);
        assertEquals("Unknown pruning method 'rigl2' at pruning.methods[2] in test.yaml; expected one of " + keys,
                error("pruning:\n  methods: [dense, rigl, rigl2]\n"));
        assertTrue(error("fault:\n  diverge_transfer: [{method: magic}]\n").contains("Unknown pruning method 'magic' at "
                + "fault.diverge_transfer[0].method in test.yaml; expected one of " + keys));
        InvalidInputException direct = assertThrows(InvalidInputException.class, () -> PruningMethods.byKey("GMP", "the command line"));
        assertEquals("Unknown pruning method 'GMP' at the command line; expected one of " + keys, direct.getMessage());
        // A section for a method that does not exist is an unknown key of pruning, listed with the keys there are.
        String section = error("pruning:\n  methods: [dense, nm]\n  nn:\n    steps: 3\n");
        assertTrue(section.startsWith("Unknown key 'nn' at pruning.nn in test.yaml (line 3); expected one of ["), section);
        for (String key : List.of("acdc", "rigl", "nm", "colt", "methods", "sparsities", "criterion", "data_parallel")) {
            assertTrue(section.contains(key), key + " in " + section);
        }
        assertTrue(!section.contains("dense"), "the dense baseline has no section: " + section);
        // Every listed method is valid in any order, new ones included.
        assertEquals(List.of("nm", "rigl", "acdc", "dense"), parse("pruning:\n  methods: [nm, rigl, acdc, dense]\n").pruning.methods);
    }

    /** The five first methods' ids, the IMP rewind id and the COLT round ids of {@code config}. */
    private static Map<String, String> firstIds(ExperimentConfig config) {
        ExperimentIds ids = new ExperimentIds(config);
        Map<String, String> out = new LinkedHashMap<>();
        for (String key : FIRST) {
            PruningMethod m = PruningMethods.byKey(key, "test");
            for (double s : m.targets(config)) {
                out.put(key + " " + s, ids.prunedId(m, s));
            }
        }
        out.put("rewind", MethodInternals.impRewindId(ids, config, config.data.upstreamTrain));
        for (int round = 1; round <= 3; round++) {
            out.put("colt round " + round, MethodInternals.coltRoundId(ids, config, round));
        }
        out.put("dense", ids.denseId());
        return out;
    }

    /** conf/tiny.yaml with only its first methods listed and the new methods' sections at their defaults. */
    private static ExperimentConfig tinyWithoutTheNewMethods() {
        ExperimentConfig tiny = ConfigLoader.load(Path.of("../conf/tiny.yaml"));
        tiny.pruning.methods = new ArrayList<>(List.of("dense", "oneshot", "gmp", "gmp_star", "imp", "colt"));
        for (String key : NEW) {
            tiny.pruning.setRecipe(key, PruningMethods.byKey(key, "test").defaultRecipe());
        }
        ConfigLoader.validate(tiny, "tiny without the new methods");
        return tiny;
    }

    @Test
    void theFirstMethodsIdsOfTheTinyConfigDoNotDependOnTheNewMethods() throws Exception {
        ExperimentConfig without = tinyWithoutTheNewMethods();
        Map<String, String> expected = firstIds(without);
        // The golden ids of SemanticsTest (version 3), as the tiny warehouse holds them.
        assertEquals("oneshot-9000-0041d435e9317932", expected.get("oneshot 0.9"));
        assertEquals("imp-9500-30c74d521bb2e686", expected.get("imp 0.95"));
        assertEquals("colt-round01-8c5c97118f66f908", expected.get("colt round 1"));
        assertEquals("rewind-3bcf3ac25be53479", expected.get("rewind"));

        ExperimentConfig listed = tinyWithoutTheNewMethods();
        listed.pruning.methods.addAll(NEW);
        ConfigLoader.validate(listed, "test");
        assertEquals(expected, firstIds(listed), "listing acdc, rigl and nm");

        ExperimentConfig tuned = tinyWithoutTheNewMethods();
        tuned.pruning.methods.addAll(0, NEW);
        merge(tuned, "acdc", "{warmup_steps: 20, compressed_steps: 10, decompressed_steps: 10, cycles: 2, final_steps: 20, lr: 0.1}");
        merge(tuned, "rigl", "{steps: 60, delta_t: 20, alpha: 0.5, distribution: uniform}");
        merge(tuned, "nm", "{group_size: 8, sparsities: [0.5, 0.875], steps: 20}");
        ConfigLoader.validate(tuned, "test");
        assertEquals(expected, firstIds(tuned), "listing them first, with non-default sections");

        // And as a config file writes them (the shipped tiny.yaml may list them or not).
        String yaml = YAML.writeValueAsString(tuned);
        assertEquals(expected, firstIds(ConfigLoader.parse(new ByteArrayInputStream(yaml.getBytes(StandardCharsets.UTF_8)), "stored")));
        assertEquals(expected, firstIds(ConfigLoader.load(Path.of("../conf/tiny.yaml"))), "the shipped tiny.yaml");

        // The new methods' ids do move with their own sections.
        for (String key : NEW) {
            PruningMethod m = PruningMethods.byKey(key, "test");
            assertNotEquals(new ExperimentIds(without).prunedId(m, 0.5), new ExperimentIds(tuned).prunedId(m, 0.5), key);
        }
    }

    private static void merge(ExperimentConfig config, String key, String yaml) throws Exception {
        config.pruning.setRecipe(key, YAML.readerForUpdating(config.pruning.recipes().get(key)).readValue(yaml));
    }

    @Test
    void aRunsSeedIsAFunctionOfTheConfigSeedTheMethodsKeyAndTheTargetOnly() {
        // Pinned (semantics version 3 of the first methods, 1 of the new): a run's seed must not move when methods are
        // added to the registry or reordered in it. A 48-bit hash of the key, plus the target in units of 1e-4.
        Map<String, Long> atNinety = Map.of("oneshot", 205_670_063_286_529L, "gmp_star", 111_097_421_021_610L,
                "gmp", 136_139_168_231_380L, "imp", 229_201_588_610_446L, "colt", 93_284_350_339_442L,
                "acdc", 275_340_594_073_254L, "rigl", 8_758_517_639_193L, "nm", 230_744_305_482_158L);
        atNinety.forEach((key, seed) -> assertEquals(seed, UpstreamSchedules.runSeed(0, key, 0.9), key + " to 0.9, config seed 0"));
        assertEquals(UpstreamSchedules.runSeed(0, "oneshot", 0.9) - 9000 + 8000, UpstreamSchedules.runSeed(0, "oneshot", 0.8));
        Map<String, Long> seeds = new LinkedHashMap<>();
        for (String key : PruningMethods.keys()) {
            for (double s : List.of(0.5, 0.8, 0.9)) {
                long seed = UpstreamSchedules.runSeed(3, key, s);
                assertEquals(seed, UpstreamSchedules.runSeed(3, new String(key.toCharArray()), s), "the key's text, not its instance");
                assertEquals(seed, UpstreamSchedules.runSeed(0, key, s) + 3 * 31, key + ": the config seed shifts every seed alike");
                assertTrue(seeds.put(key + " " + s, seed) == null);
            }
        }
        assertEquals(seeds.size(), new HashSet<>(seeds.values()).size(), "every (method, target) run shuffles its own way");

        // Each method's runs take that seed, whatever the order of pruning.methods and whichever methods it lists.
        ExperimentConfig forward = parse("seed: 3\npruning:\n  methods: [dense, oneshot, gmp_star, gmp, imp, colt, acdc, rigl, nm]\n");
        ExperimentConfig backward = parse("seed: 3\npruning:\n  methods: [nm, rigl, acdc, colt]\n");
        for (ExperimentConfig config : List.of(forward, backward)) {
            UpstreamSchedules schedules = new UpstreamSchedules(config, 1000);
            for (PruningMethod m : PruningMethods.all()) {
                if (!(m instanceof SingleRunMethod<?> single)) {
                    continue;
                }
                for (double s : m.targets(config)) {
                    assertEquals(UpstreamSchedules.runSeed(3, m.key(), s), settings(single, config, schedules, s).seed(), m.key() + " " + s);
                }
            }
            assertEquals(UpstreamSchedules.runSeed(3, "imp", 0.9), schedules.pruneSettings("imp", 0.9).seed());
        }
    }

    private static <R extends MethodRecipe> TrainingLoop.Settings settings(SingleRunMethod<R> m, ExperimentConfig config,
            UpstreamSchedules schedules, double target) {
        return m.settings(m.recipe(config), schedules, target);
    }

    private static JsonNode json(Object value) {
        return YAML.valueToTree(value);
    }
}
