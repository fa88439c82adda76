package org.sparsetransfer.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.sparsetransfer.core.InvalidInputException;
import org.sparsetransfer.core.method.PruningMethod;
import org.sparsetransfer.core.method.PruningMethods;

class ConfigLoaderTest {
    /** A config from YAML text, named test.yaml in messages. */
    static ExperimentConfig parse(String yaml) {
        return ConfigLoader.parse(new ByteArrayInputStream(yaml.getBytes(StandardCharsets.UTF_8)), "test.yaml");
    }

    /** The registered method {@code key}. */
    static PruningMethod method(String key) {
        return PruningMethods.byKey(key, "ConfigLoaderTest");
    }

    /** The message of the one error {@code yaml} gets. */
    static String error(String yaml) {
        return assertThrows(InvalidInputException.class, () -> parse(yaml)).getMessage();
    }

    @Test
    void sectionsMergeIntoDefaultsAndListsReplaceThem() {
        ExperimentConfig c = parse("""
                transfer:
                  full:
                    steps: 7
                pruning:
                  sparsities: [0.5]
                """);
        assertEquals(7, c.transfer.full.steps);
        assertEquals(new ExperimentConfig().transfer.full.lr, c.transfer.full.lr);
        assertEquals(List.of(0.5), c.pruning.sparsities);
        assertEquals(List.of("dense", "oneshot", "gmp_star"), c.pruning.methods);
    }

    @Test
    void unknownKeyIsNamedWithItsPathAndTheKnownKeys() {
        String message = error("upstream:\n  epochz: 3\n");
        assertTrue(message.contains("Unknown key 'epochz'") && message.contains("upstream.epochz")
                && message.contains("epochs") && message.contains("line 2"), message);
    }

    @Test
    void badValuesAreNamed() {
        assertTrue(error("pruning:\n  sparsities: [0.5, 1.0]\n").contains("pruning.sparsities[1]"));
        assertTrue(error("pruning:\n  sparsities: [-0.1]\n").contains("[0, 1)"));
        assertTrue(error("pruning:\n  methods: [dense, magic]\n").contains("Unknown pruning method 'magic'"));
        assertTrue(error("transfer:\n  tasks: [cifar99]\n").contains("Unknown task 'cifar99'"));
        assertTrue(error("transfer:\n  regimes: [partial]\n").contains("Unknown transfer regime 'partial'"));
        assertTrue(error("upstream:\n  epochs: lots\n").contains("upstream.epochs"));
        assertTrue(error("model: resnet9000\n").contains("Unknown model 'resnet9000'"));
        assertTrue(error("controls: {dense_extended: true, cooldown: 0}\n").contains("controls.cooldown"));
        assertEquals(1.0, parse("controls: {dense_extended: true, cooldown: 1}\n").controls.cooldown, "1: each control trained alone");
        assertTrue(error("model: resnet50\n").contains("Bad value for model in"), "ResNets need the RGB readers");
        assertTrue(error("upstream: {epochs: 3\n").contains("not valid YAML"));
        assertTrue(error("upstream: 5\n").contains("Bad value at upstream"));
        assertTrue(error("transfer:\n  full: [1, 2]\n").contains("Bad value at transfer.full"));
        assertTrue(error("upstream:\n  pretrained: imported-resnet50-0123\n").contains("the id of an imported small_cnn"));
        assertTrue(error("upstream:\n  pretrained: imported-small_cnn-0123\npruning:\n  methods: [dense, imp]\n").contains("pruning.imp.mode"),
                "weight_rewind needs a dense run to rewind into");
        parse("upstream:\n  pretrained: imported-small_cnn-0123\npruning:\n  methods: [dense, imp]\n  imp:\n    mode: lr_rewind\n");
    }

    /**
     * A valid value for each list of the config, by key: a list added to the config without a
     * sample here fails this test, so every list is checked for repeats.
     */
    private static final java.util.Map<String, String> LIST_SAMPLES = java.util.Map.ofEntries(
            java.util.Map.entry("pruning.methods", "dense"),
            java.util.Map.entry("pruning.sparsities", "0.8"),
            java.util.Map.entry("pruning.nm.sparsities", "0.5"),
            java.util.Map.entry("transfer.tasks", "mnist"),
            java.util.Map.entry("transfer.regimes", "linear"),
            java.util.Map.entry("transfer.seeds", "5"),
            java.util.Map.entry("transfer.linear.seeds", "5"),
            java.util.Map.entry("transfer.full.seeds", "5"),
            java.util.Map.entry("transfer.linear.lr_milestones", "5"),
            java.util.Map.entry("transfer.full.lr_milestones", "5"),
            java.util.Map.entry("fault.diverge_transfer", "{method: oneshot, task: mnist}"),
            java.util.Map.entry("imported.checkpoints", "{method: a_published, file: a.pth}"),
            java.util.Map.entry("transfer.linear.lr_grid", "0.1"),
            java.util.Map.entry("transfer.full.lr_grid", "0.1"),
            java.util.Map.entry("transfer.probe.l2_grid", "0.001"));

    @Test
    void importedCheckpointsAreCheckedAndATransferOnlyExperimentPrunesNothing() {
        String transferOnly = "upstream: {enabled: false}\npruning: {methods: []}\n";
        parse(transferOnly + "imported:\n  dir: /published\n  dense: {file: dense.pth}\n  checkpoints:\n"
                + "    - {method: acdc_published, family: regularization, file: acdc_80.pth}\n"
                + "    - {method: acdc_published, family: regularization, file: acdc_90.pth}\n"
                + "    - {method: str, id: imported-small_cnn-0123}\n");
        assertTrue(error("imported:\n  checkpoints:\n    - {method: acdc, file: a.pth}\n")
                .contains("expected a label other than a built-in method's key"), "own and published results never merge");
        assertTrue(error("imported:\n  checkpoints:\n    - {method: x_published}\n").contains("gives neither file nor id"));
        assertTrue(error("imported:\n  checkpoints:\n    - {method: x_published, file: a.pth, id: b}\n").contains("gives both file and id"));
        assertTrue(error("imported:\n  checkpoints:\n    - {method: x_published, family: magic, file: a.pth}\n")
                .contains("Unknown method family 'magic'"));
        assertTrue(error("imported:\n  checkpoints:\n    - {method: x, family: magnitude, file: a.pth}\n"
                + "    - {method: x, family: regrowth, file: b.pth}\n").contains("the family of the other checkpoints labelled x"));
        assertTrue(error("imported:\n  checkpoints:\n    - {method: 'has space', file: a.pth}\n").contains("a label of letters"));
        assertTrue(error("imported:\n  dense: {file: d.pth}\n").contains("is the baseline of a transfer-only experiment"));
        assertTrue(error("upstream: {enabled: false}\nimported:\n  dense: {file: d.pth}\n")
                .contains("Bad value for pruning.methods in test.yaml: [dense, oneshot, gmp_star]; expected [] in a transfer-only experiment"));
        assertTrue(error(transferOnly).contains("a transfer-only experiment (upstream.enabled: false) without checkpoints"));
        assertTrue(error(transferOnly + "imported:\n  dense: {method: d, file: d.pth}\n").contains("only file or id"));
    }

    @Test
    void everyListOfTheConfigRefusesARepeatedValueNamingTheListAndTheValue() throws Exception {
        java.util.Set<String> lists = new java.util.TreeSet<>();
        collectLists(ExperimentConfig.class, "", lists);
        // The methods' sections (pruning.<key>), which the registry lists rather than the config's fields.
        PruningMethods.recipeTypes().forEach((key, type) -> collectLists(type, "pruning." + key + ".", lists));
        assertEquals(new java.util.TreeSet<>(LIST_SAMPLES.keySet()), lists, "a sample value for every list of the config");
        for (String key : lists) {
            String sample = LIST_SAMPLES.get(key);
            String message = error(listYaml(key, "[" + sample + ", " + sample + "]"));
            assertTrue(message.startsWith("Bad value for " + key + " in test.yaml: ") && message.contains("is listed twice"),
                    key + ": " + message);
            parse(listYaml(key, "[" + sample + "]")); // once is fine
        }
        String sparsity = error("pruning:\n  sparsities: [0.8, 0.9, 0.80]\n");
        assertTrue(sparsity.contains("[0.8, 0.9, 0.8]") && sparsity.contains("0.8 is listed twice"), "0.80 is 0.8: " + sparsity);
        String seeds = error("transfer:\n  seeds: [5, 6, 6]\n");
        assertTrue(seeds.contains("6 is listed twice"), seeds);
    }

    /** YAML setting the list at the dotted {@code key} to {@code value}, one section per level. */
    private static String listYaml(String key, String value) {
        String[] path = key.split("\\.");
        StringBuilder yaml = new StringBuilder();
        for (int i = 0; i < path.length; i++) {
            yaml.append("  ".repeat(i)).append(path[i]).append(':').append(i == path.length - 1 ? " " + value : "").append('\n');
        }
        return yaml.toString();
    }

    /** The keys of every list field of a config section, recursively through its sub-sections. */
    private static void collectLists(Class<?> type, String prefix, java.util.Set<String> out) {
        for (java.lang.reflect.Field f : type.getFields()) {
            if (java.lang.reflect.Modifier.isStatic(f.getModifiers())) {
                continue;
            }
            String key = prefix + f.getName().replaceAll("([a-z0-9])([A-Z])", "$1_$2").toLowerCase(java.util.Locale.ROOT);
            if (List.class.isAssignableFrom(f.getType())) {
                out.add(key);
            } else if (f.getType().getName().startsWith(ExperimentConfig.class.getName() + "$")) {
                collectLists(f.getType(), key + ".", out);
            }
        }
    }

    /**
     * The methods' sections (pruning.<key>, read through the registry) are read as strictly as the
     * rest: unknown keys, bad choices and values of the wrong kind each get one message with the
     * key's path, its line and what it takes.
     */
    @Test
    void methodSectionsAreReadAsStrictlyAsTheFixedOnes() {
        String unknownSection = error("pruning:\n  methods: [dense, nm]\n  nn:\n    steps: 3\n");
        assertTrue(unknownSection.startsWith("Unknown key 'nn' at pruning.nn in test.yaml (line 3); expected one of ["), unknownSection);
        for (String key : List.of("acdc", "rigl", "nm", "imp", "colt", "gmp_star", "methods", "sparsities", "criterion", "batch_size")) {
            assertTrue(unknownSection.contains(key), key + " is listed: " + unknownSection);
        }
        assertEquals("Unknown key 'delta' at pruning.rigl.delta in test.yaml (line 3); expected one of "
                + "[alpha, delta_t, distribution, end_fraction, epochs, lr, steps]", error("pruning:\n  rigl:\n    delta: 3\n"));
        String flow = error("pruning: {imp: {rewind: 3}}\n");
        assertTrue(flow.startsWith("Unknown key 'rewind' at pruning.imp.rewind in test.yaml (line 1); expected one of [")
                && flow.contains("rewind_step") && flow.contains("rewind_epoch"), flow);
        for (String[] c : new String[][] {
                {"pruning:\n  criterion: median\n", "Bad value at pruning.criterion in test.yaml (line 2): median; expected one of [global, layerwise]"},
                {"pruning:\n  gmp:\n    criterion: median\n", "Bad value at pruning.gmp.criterion in test.yaml (line 3): median; "
                        + "expected one of [global, layerwise]"},
                {"pruning:\n  colt:\n    split: halves\n", "Bad value at pruning.colt.split in test.yaml (line 3): halves; "
                        + "expected one of [classes, random]"},
                {"pruning:\n  imp:\n    mode: rewind\n", "Bad value at pruning.imp.mode in test.yaml (line 3): rewind; "
                        + "expected one of [weight_rewind, lr_rewind, finetune, linear_decay]"},
                {"pruning:\n  rigl:\n    distribution: gaussian\n", "Bad value at pruning.rigl.distribution in test.yaml (line 3): "
                        + "gaussian; expected one of [erk, uniform]"},
                {"data:\n  source: files\n", "Bad value at data.source in test.yaml (line 2): files; expected one of [demo, images]"},
                {"pruning:\n  rigl:\n    delta_t: 2.5\n", "Bad value at pruning.rigl.delta_t in test.yaml (line 3): 2.5; expected a whole number"},
                {"pruning:\n  acdc:\n    lr: ~\n", "Bad value at pruning.acdc.lr in test.yaml (line 3): null; expected a number "
                        + "(leave the key out for its default)"},
                {"pruning:\n  nm:\n    sparsities: 0.5\n", "Bad value at pruning.nm.sparsities in test.yaml (line 3): 0.5; "
                        + "expected a list, e.g. [a, b]"},
                {"pruning:\n  rigl: 5\n", "Bad value at pruning.rigl in test.yaml: 5; expected a section of key: value pairs"},
                {"pruning:\n  rigl:\n    alpha: 1.5\n", "Bad value for pruning.rigl.alpha in test.yaml: 1.5; expected a fraction in (0, 1)"},
                {"pruning:\n  acdc:\n    compressed_steps: 0\n", "Bad value for pruning.acdc.compressed_steps in test.yaml: 0; "
                        + "expected a positive number"},
                {"pruning:\n  nm:\n    group_size: 1\n", "Bad value for pruning.nm.group_size in test.yaml: 1; expected a group size "
                        + "from 2 to 64 (4 for 2:4 kernels)"},
                {"pruning:\n  rigl:\n    steps: 10\n    epochs: 2\n", "pruning.rigl.steps and pruning.rigl.epochs in test.yaml are two "
                        + "ways to give one length; give one of them"}}) {
            assertEquals(c[1], error(c[0]), c[0]);
        }
        assertTrue(error("pruning:\n  rigl:\n    lr: .nan\n").contains("NaN and infinity are not allowed"));
        assertTrue(error("pruning:\n  nm:\n    steps: 5\n    steps: 6\n").contains("key 'steps' is given twice in one section"));
        ExperimentConfig given = parse("pruning:\n  criterion: layerwise\n  colt: {split: random}\n  imp: {mode: finetune}\n");
        assertEquals(org.sparsetransfer.core.prune.Criterion.LAYERWISE, given.pruning.criterion);
        assertEquals("{\"split\":\"random\"}", ExperimentIds.nonDefault(given.pruning.recipes().get("colt"),
                PruningMethods.byKey("colt", "test").defaultRecipe()).toString());
    }

    @Test
    void emptyDirectoryAndNonMappingConfigsSaySo(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        assertTrue(error("").startsWith("Config test.yaml is empty;"), error(""));
        assertTrue(error("# only a comment\n").startsWith("Config test.yaml is empty;"));
        assertTrue(error("- a\n- b\n").contains("is not a mapping of key: value pairs at the top level (it is array)"), error("- a\n"));
        String directory = assertThrows(InvalidInputException.class, () -> ConfigLoader.load(dir)).getMessage();
        assertTrue(directory.startsWith("Config " + dir + " is a directory, not a file;"), directory);
        assertTrue(assertThrows(InvalidInputException.class, () -> ConfigLoader.load(Path.of("/dev/null"))).getMessage()
                .startsWith("Config /dev/null is not a regular file (a device or a pipe)"));
    }

    @Test
    void numbersAreNamedAsWritten() {
        String batch = error("upstream:\n  batch_size: 0\n");
        assertEquals("Bad value for upstream.batch_size in test.yaml: 0; expected a positive number", batch);
        assertEquals("Bad value for upstream.lr in test.yaml: -0.05; expected a positive number", error("upstream:\n  lr: -0.05\n"));
        assertTrue(error("transfer:\n  momentum: 1.5\n").contains(": 1.5;"));
    }

    @Test
    void nullsWhereAValueBelongsAreNamed() {
        for (String[] c : new String[][] {
                {"transfer:\n  linear: ~\n", "Bad value for transfer.linear in test.yaml: null; expected a section of key: value pairs"},
                {"data: ~\n", "Bad value for data in test.yaml: null; expected a section"},
                {"data:\n  images: ~\n", "Bad value for data.images in test.yaml: null"},
                {"upstream:\n  data_parallel: ~\n", "Bad value for upstream.data_parallel in test.yaml: null"},
                {"fault:\n  diverge_transfer: [~]\n", "Bad value for fault.diverge_transfer[0] in test.yaml: null; expected a value"},
                {"model: ~\n", "Bad value for model in test.yaml: null; expected a value (leave the key out for its default)"},
                {"name: ~\n", "Bad value for name in test.yaml: null"},
                {"pruning:\n  criterion: ~\n", "Bad value for pruning.criterion in test.yaml: null"},
                {"data:\n  source: ~\n", "Bad value for data.source in test.yaml: null"},
                {"pruning:\n  imp:\n    mode: ~\n", "Bad value for pruning.imp.mode in test.yaml: null"},
                {"transfer:\n  seeds: [0, ~]\n", "Bad value for transfer.seeds[1] in test.yaml: null; expected a value"},
                {"upstream:\n  lr: ~\n", "Bad value at upstream.lr in test.yaml (line 2): null; expected a number (leave the key out"},
                {"data:\n  fetch: ~\n", "Bad value at data.fetch in test.yaml (line 2): null; expected true or false"}}) {
            String message = error(c[0]);
            assertTrue(message.startsWith(c[1]), c[0] + " -> " + message);
        }
        parse("upstream:\n  pretrained: ~\ndata:\n  mnist: ~\n"); // optional keys may be null: their default is
        parse("fault:\n  diverge_transfer: [{method: oneshot}]\n");
    }

    @Test
    void valuesOfTheWrongKindAreNamedInWords() {
        assertTrue(error("upstream:\n  epochs: 2.5\n").startsWith("Bad value at upstream.epochs in test.yaml (line 2): 2.5; "
                + "expected a whole number"), error("upstream:\n  epochs: 2.5\n"));
        assertTrue(error("transfer:\n  seeds: [0, 0.5]\n").contains("transfer.seeds[1]"), "not a false repeat of 0");
        assertTrue(error("pruning:\n  sparsities: 0.9\n").endsWith("(line 2): 0.9; expected a list, e.g. [a, b]"),
                error("pruning:\n  sparsities: 0.9\n"));
        assertEquals("Bad value for transfer.linear.lr in test.yaml: Infinity; expected a positive number",
                error("transfer:\n  linear:\n    lr: 1e308\n"), "too large for a float");
        assertEquals("Bad value in test.yaml (line 2): NaN and infinity are not allowed; give a finite number",
                error("upstream:\n  lr: .nan\n"));
        assertTrue(error("transfer:\n  linear:\n    lr: -.inf\n").contains("NaN and infinity are not allowed"));
        assertTrue(error("upstream:\n  weight_decay: -1\n").contains("upstream.weight_decay"));
        assertTrue(error("transfer:\n  full:\n    weight_decay: -0.1\n").contains("transfer.full.weight_decay"));
        assertTrue(error("fault:\n  diverge_transfer: [{sparsity: 1.5}]\n").contains("fault.diverge_transfer[0].sparsity"));
    }

    @Test
    void yamlThatWouldBeMisreadIsRefused() {
        assertTrue(error("seed: 1\nseed: 2\n").contains("key 'seed' is given twice in one section"), error("seed: 1\nseed: 2\n"));
        assertTrue(error("seed: 0\n---\nseed: 1\n").contains("holds more than one YAML document (line 2)"));
        String alias = error("transfer:\n  tasks: &t [mnist]\npruning:\n  methods: *t\n");
        assertTrue(alias.contains("uses a YAML anchor or alias (line 2); write the values out instead"), alias);
        String bad = error("name: [unclosed\n");
        assertTrue(bad.startsWith("Config test.yaml is not valid YAML") && bad.contains("expected ',' or ']'"), bad);
    }

    @Test
    void missingFileIsNamed() {
        String message = assertThrows(InvalidInputException.class, () -> ConfigLoader.load(Path.of("/no/such/config.yaml"))).getMessage();
        assertTrue(message.contains("Config file not found: /no/such/config.yaml"), message);
    }

    @Test
    void idsIgnoreExplicitDefaultsButNotChanges() {
        ExperimentIds plain = new ExperimentIds(parse("name: a\n"));
        ExperimentIds explicitDefault = new ExperimentIds(parse("name: b\nupstream:\n  epochs: 4\n"));
        ExperimentIds changed = new ExperimentIds(parse("upstream:\n  epochs: 5\n"));
        assertEquals(plain.denseId(), explicitDefault.denseId());
        assertNotEquals(plain.denseId(), changed.denseId());
        assertNotEquals(plain.prunedId(method("oneshot"), 0.9), changed.prunedId(method("oneshot"), 0.9),
                "a new parent gives a new child");
    }

    @Test
    void idsDependOnlyOnWhatShapesTheStage() {
        ExperimentIds base = new ExperimentIds(parse("{}"));
        ExperimentIds otherGmp = new ExperimentIds(parse("pruning:\n  gmp_star:\n    interval: 7\n"));
        ExperimentIds otherTransfer = new ExperimentIds(parse("transfer:\n  seeds: [5]\n  full:\n    lr: 0.5\n"));
        assertEquals(base.denseId(), otherGmp.denseId());
        assertEquals(base.prunedId(method("oneshot"), 0.9), otherGmp.prunedId(method("oneshot"), 0.9));
        assertNotEquals(base.prunedId(method("gmp_star"), 0.9), otherGmp.prunedId(method("gmp_star"), 0.9));
        assertNotEquals(base.prunedId(method("gmp_star"), 0.9), base.prunedId(method("gmp_star"), 0.8));
        assertEquals(base.prunedId(method("gmp_star"), 0.9), otherTransfer.prunedId(method("gmp_star"), 0.9));
        assertNotEquals(base.transferSettingsHash(), otherTransfer.transferSettingsHash());
        assertEquals(base.denseId(), base.prunedId(method("dense"), 0.0));
        ExperimentIds movedData = new ExperimentIds(parse("data:\n  dir: /elsewhere\n  fetch: false\n"));
        assertEquals(base.dataHash(), movedData.dataHash(), "where files live is not what they are");
    }
}
