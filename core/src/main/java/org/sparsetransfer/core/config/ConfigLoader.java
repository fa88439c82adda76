package org.sparsetransfer.core.config;

import com.fasterxml.jackson.annotation.JsonMerge;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.sparsetransfer.core.InvalidInputException;
import org.sparsetransfer.core.io.FileSource;
import org.sparsetransfer.core.IoErrors;
import org.sparsetransfer.core.model.Architecture;
import org.sparsetransfer.core.method.MethodRecipe;
import org.sparsetransfer.core.method.PruningMethod;
import org.sparsetransfer.core.method.PruningMethods;
import org.sparsetransfer.core.task.TaskRegistry;
import org.sparsetransfer.core.transfer.Regime;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.events.AliasEvent;
import org.yaml.snakeyaml.events.DocumentStartEvent;
import org.yaml.snakeyaml.events.Event;
import org.yaml.snakeyaml.events.NodeEvent;

/** Reads YAML configs strictly: unknown keys, wrong types and bad values each get one clear message. */
public final class ConfigLoader {
    /** Classpath location of the embedded demo config (copied from conf/demo.yaml at build time). */
    public static final String EMBEDDED_DEMO = "/sparse-transfer/demo.yaml";
    /** Far above any real config; a larger file is the wrong file, and is not read into memory. */
    private static final long MAX_CONFIG_BYTES = 1 << 20;

    private ConfigLoader() {}

    public static ObjectMapper yamlMapper() {
        return new ObjectMapper(new YAMLFactory())
                .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
                .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
                .enable(DeserializationFeature.FAIL_ON_NUMBERS_FOR_ENUMS)
                .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT) // 2.5 epochs is a mistake, not 2
                .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
    }

    /** A local config file (tests and Spark-free tools; the application reads through {@link #load(FileSource, String)}). */
    public static ExperimentConfig load(Path file) {
        if (Files.exists(file) && !Files.isRegularFile(file) && !Files.isDirectory(file)) {
            throw new InvalidInputException("Config " + file + " is not a regular file (a device or a pipe); pass a YAML file "
                    + "with --config, e.g. conf/demo.yaml");
        }
        return load(FileSource.local(), file.toString());
    }

    /** The config file at {@code location}, read through {@code files} (a local path, or a URI such as hdfs://nn:8020/conf/x.yaml). */
    public static ExperimentConfig load(FileSource files, String location) {
        try {
            if (files.isDirectory(location)) {
                throw new InvalidInputException("Config " + location + " is a directory, not a file; pass a YAML file with --config, "
                        + "e.g. conf/demo.yaml");
            }
            if (!files.isFile(location)) {
                throw new InvalidInputException("Config file not found: " + location
                        + " (pass an existing YAML file with --config, e.g. conf/demo.yaml)");
            }
            long length = files.length(location);
            if (length > MAX_CONFIG_BYTES) {
                throw new InvalidInputException("Config " + location + " holds " + length + " bytes; a config is a "
                        + "small YAML file (at most " + MAX_CONFIG_BYTES + " bytes): is it the right file?");
            }
            try (InputStream in = files.open(location)) {
                return parse(in, location);
            }
        } catch (IOException e) {
            throw new InvalidInputException("Cannot read config file " + location + ": " + IoErrors.describe(e), e);
        }
    }

    /** The demo experiment embedded in the application. */
    public static ExperimentConfig embeddedDemo() {
        try (InputStream in = ConfigLoader.class.getResourceAsStream(EMBEDDED_DEMO)) {
            if (in == null) {
                throw new IllegalStateException("the embedded demo config " + EMBEDDED_DEMO + " is missing from the build");
            }
            return parse(in, "embedded demo config");
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    public static ExperimentConfig parse(InputStream in, String source) {
        ExperimentConfig config;
        try {
            byte[] yaml = in.readAllBytes();
            checkDocument(yaml, source);
            ObjectMapper mapper = yamlMapper();
            JsonNode tree = mapper.readTree(yaml);
            if (tree == null || tree.isMissingNode() || tree.isNull()) {
                throw new InvalidInputException("Config " + source + " is empty; write the keys it changes (e.g. name: my-experiment), "
                        + "or use {} for the defaults");
            }
            if (!tree.isObject()) {
                throw new InvalidInputException("Config " + source + " is not a mapping of key: value pairs at the top level (it is "
                        + tree.getNodeType().toString().toLowerCase(Locale.ROOT) + ")");
            }
            // Jackson silently ignores a scalar where a merged section belongs: check shapes first.
            checkSections(tree, ExperimentConfig.class, "", source);
            config = mapper.readValue(yaml, ExperimentConfig.class);
            readMethodSections(config, mapper, yaml, tree.path("pruning"), source);
            settleAlternatives(config, tree, "", source);
            resolveTransferRecipes(tree.path("transfer"), config.transfer, mapper, source);
            checkProbeSections(tree.path("transfer"), config.transfer, source);
        } catch (UnrecognizedPropertyException e) {
            String known = e.getKnownPropertyIds() == null ? "" : e.getKnownPropertyIds().stream()
                    .map(Object::toString).map(ConfigLoader::snake).collect(Collectors.toCollection(TreeSet::new)).toString();
            throw new InvalidInputException("Unknown key '" + e.getPropertyName() + "' at " + path(e) + " in " + source
                    + line(e) + "; expected one of " + known);
        } catch (MismatchedInputException e) {
            String found = found(e);
            throw new InvalidInputException("Bad value at " + path(e) + " in " + source + line(e) + ": " + (found == null ? "" : found + "; ")
                    + "expected " + expected(e.getTargetType()) + ("null".equals(found) ? " (leave the key out for its default)" : ""));
        } catch (JsonMappingException e) {
            throw new InvalidInputException("Bad value at " + path(e) + " in " + source + line(e) + ": "
                    + e.getOriginalMessage().split("\n")[0]);
        } catch (JsonProcessingException e) {
            String problem = e.getOriginalMessage();
            if (problem.startsWith("Duplicate field")) {
                throw new InvalidInputException("Config " + source + line(e) + ": key " + problem.substring("Duplicate field ".length())
                        + " is given twice in one section; give each key once");
            }
            if (problem.matches("(?s).*Malformed numeric value '[-+]?\\.(nan|NaN|NAN|inf|Inf|INF)'.*")) {
                throw new InvalidInputException("Bad value in " + source + line(e) + ": NaN and infinity are not allowed; give a finite number");
            }
            throw new InvalidInputException("Config " + source + " is not valid YAML" + line(e) + ": " + yamlProblem(e));
        } catch (IOException e) {
            throw new InvalidInputException("Cannot read config " + source + ": " + e.getMessage(), e);
        }
        validate(config, source);
        return config;
    }

    /**
     * Reads each {@code pruning.<key>} section through its method's recipe type (the registry
     * says which keys there are), merged into the defaults; any other key of {@code pruning} is
     * an error that lists the keys there are. Each section is read from the YAML text itself, so
     * its errors name their line and the value found, as those of the fixed sections do.
     */
    private static void readMethodSections(ExperimentConfig config, ObjectMapper mapper, byte[] yaml, JsonNode pruning, String source)
            throws IOException {
        for (Map.Entry<String, JsonNode> section : config.pruning.takeWritten().entrySet()) {
            String key = section.getKey();
            JsonParser parser = sectionParser(mapper, yaml, key);
            PruningMethod method = PruningMethods.all().stream().filter(m -> m.key().equals(key) && m.defaultRecipe() != null)
                    .findFirst().orElse(null);
            if (method == null) {
                Set<String> known = new TreeSet<>(PruningMethods.recipeTypes().keySet());
                for (Field field : ExperimentConfig.Pruning.class.getFields()) {
                    if (!Modifier.isStatic(field.getModifiers())) {
                        known.add(snake(field.getName()));
                    }
                }
                String line = parser == null ? "" : " (line " + parser.currentTokenLocation().getLineNr() + ")";
                throw new InvalidInputException("Unknown key '" + key + "' at pruning." + key + " in " + source + line + "; expected one of "
                        + known);
            }
            if (!section.getValue().isObject()) {
                throw new InvalidInputException("Bad value at pruning." + key + " in " + source + ": " + section.getValue()
                        + "; expected a section of key: value pairs");
            }
            MethodRecipe recipe;
            try (JsonParser value = parser) {
                if (value == null) {
                    recipe = mapper.readerForUpdating(method.defaultRecipe()).readValue(section.getValue());
                } else {
                    value.nextToken();
                    recipe = mapper.readerForUpdating(method.defaultRecipe()).readValue(value);
                }
            } catch (JsonMappingException e) {
                e.prependPath(config.pruning, key);
                e.prependPath(config, "pruning");
                throw e;
            }
            config.pruning.setRecipe(key, recipe);
            settleAlternatives(recipe, pruning.path(key), "pruning." + key + ".", source);
        }
    }

    /** A parser of {@code yaml} at the key {@code pruning.<key>}, or null if the text has none there. */
    private static JsonParser sectionParser(ObjectMapper mapper, byte[] yaml, String key) throws IOException {
        JsonParser parser = mapper.getFactory().createParser(yaml);
        if (parser.nextToken() == JsonToken.START_OBJECT && seekField(parser, "pruning")
                && parser.nextToken() == JsonToken.START_OBJECT && seekField(parser, key)) {
            return parser;
        }
        parser.close();
        return null;
    }

    /** Moves {@code parser}, inside a mapping, to its key {@code name}; false at the mapping's end. */
    private static boolean seekField(JsonParser parser, String name) throws IOException {
        while (parser.nextToken() == JsonToken.FIELD_NAME) {
            if (parser.currentName().equals(name)) {
                return true;
            }
            parser.nextToken();
            parser.skipChildren();
        }
        return false;
    }

    /**
     * One YAML document without anchors or aliases: a second document (after {@code ---}) would
     * be silently dropped, and Jackson reads an alias to a list as a string.
     */
    private static void checkDocument(byte[] yaml, String source) {
        int documents = 0;
        try {
            for (Event event : new Yaml().parse(new java.io.InputStreamReader(new java.io.ByteArrayInputStream(yaml),
                    java.nio.charset.StandardCharsets.UTF_8))) {
                if (event instanceof DocumentStartEvent && ++documents > 1) {
                    throw new InvalidInputException("Config " + source + " holds more than one YAML document (line "
                            + (event.getStartMark().getLine() + 1) + "); put the whole config in one");
                }
                if (event instanceof AliasEvent || event instanceof NodeEvent n && n.getAnchor() != null) {
                    throw new InvalidInputException("Config " + source + " uses a YAML anchor or alias (line "
                            + (event.getStartMark().getLine() + 1) + "); write the values out instead");
                }
            }
        } catch (YAMLException syntax) {
            // Jackson's parse reports it, with the key's path
        }
    }

    /** The value a type error found ("null", "2.5"), or null when the parser cannot say. */
    private static String found(MismatchedInputException e) {
        if (e instanceof InvalidFormatException f) {
            return String.valueOf(f.getValue());
        }
        if (e.getProcessor() instanceof JsonParser parser && parser.currentToken() != null) {
            try {
                return parser.currentToken() == JsonToken.VALUE_NULL ? "null"
                        : parser.currentToken().isScalarValue() ? parser.getText() : null;
            } catch (IOException unreadable) {
                return null;
            }
        }
        return null;
    }

    /** What a key of type {@code type} takes, in words. */
    private static String expected(Class<?> type) {
        if (type == null) {
            return "a value of another kind";
        }
        if (type == int.class || type == long.class || type == Integer.class || type == Long.class) {
            return "a whole number";
        }
        if (type == float.class || type == double.class || type == Float.class || type == Double.class) {
            return "a number";
        }
        if (type == boolean.class || type == Boolean.class) {
            return "true or false";
        }
        if (type == String.class) {
            return "a text value";
        }
        if (List.class.isAssignableFrom(type)) {
            return "a list, e.g. [a, b]";
        }
        if (type.isEnum() && Choice.Named.class.isAssignableFrom(type)) {
            return "one of " + java.util.Arrays.stream(type.getEnumConstants()).map(c -> ((Choice.Named) c).key()).toList();
        }
        return "a section of key: value pairs";
    }

    /** A YAML syntax error in one line: SnakeYAML's context and problem ("while parsing a flow sequence: expected ',' or ']'"). */
    private static String yamlProblem(JsonProcessingException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof java.io.CharConversionException c) {
                return "it is not UTF-8 text (" + c.getMessage() + ")";
            }
            if (t instanceof MarkedYAMLException m) {
                return (m.getContext() == null ? "" : m.getContext() + ": ") + m.getProblem();
            }
        }
        return e.getOriginalMessage().split("\n")[0];
    }

    /**
     * Every key of every section of the config (and of every list element that is a section) is
     * set: null only where the default is null too (optional paths, {@code upstream.pretrained},
     * the fields of a run selector). No list holds null or a value twice: a repeated method,
     * sparsity, task, regime or seed would be trained twice and counted twice in the
     * statistics. Values compare as their YAML values do (0.8 and 0.80 are one sparsity).
     *
     * @param defaults the section's defaults (a new instance of its class)
     */
    private static void checkValues(Object section, Object defaults, String prefix, String source) {
        ObjectMapper json = new ObjectMapper().setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE);
        for (Field field : section.getClass().getFields()) {
            if (Modifier.isStatic(field.getModifiers())) {
                continue;
            }
            Object value = get(field, section);
            String key = prefix + snake(field.getName());
            ExperimentConfig.Alternative alternative = field.getAnnotation(ExperimentConfig.Alternative.class);
            if (alternative != null) {
                Object other = get(partner(field, alternative), section);
                String otherKey = prefix + snake(alternative.value());
                if (value != null && other != null) {
                    throw new InvalidInputException(key + " and " + otherKey + " in " + source
                            + " are two ways to give one length; give one of them");
                }
                if (value == null && other == null) {
                    throw new InvalidInputException(source + " gives neither " + key + " nor " + otherKey + "; give one of them");
                }
            }
            if (value == null) {
                if (get(field, defaults) != null && alternative == null) {
                    throw bad(source, key, null, field.isAnnotationPresent(JsonMerge.class) ? "a section of key: value pairs "
                            + "(leave the key out for its defaults)" : "a value (leave the key out for its default)");
                }
            } else if (value instanceof List<?> list) {
                Set<JsonNode> seen = new HashSet<>();
                for (int i = 0; i < list.size(); i++) {
                    Object element = list.get(i);
                    if (element == null) {
                        throw bad(source, key + "[" + i + "]", null, "a value");
                    }
                    JsonNode node = json.valueToTree(element);
                    if (!seen.add(node)) {
                        throw bad(source, key, list, "each value once; " + node + " is listed twice, and a repeated value "
                                + "would be run and counted twice");
                    }
                    if (isSection(element.getClass())) {
                        checkValues(element, newInstance(element.getClass()), key + "[" + i + "].", source);
                    }
                }
            } else if (isSection(field.getType())) {
                // A section whose default is none (imported.dense) is checked against a fresh one.
                Object sectionDefaults = get(field, defaults);
                checkValues(value, sectionDefaults != null ? sectionDefaults : newInstance(field.getType()), key + ".", source);
            }
        }
    }

    /** A class of the config's own sections (ExperimentConfig's nested classes). */
    private static Field partner(Field field, ExperimentConfig.Alternative alternative) {
        try {
            return field.getDeclaringClass().getField(alternative.value());
        } catch (NoSuchFieldException e) {
            throw new IllegalStateException(field + " names a missing alternative " + alternative.value(), e);
        }
    }

    /**
     * Where a config gives one of two {@link ExperimentConfig.Alternative} keys (e.g.
     * {@code epochs}), the other one's default is dropped; giving both is an error. {@code own}
     * is the section as written (a key written as null, as a stored run's config writes the
     * unused one, is not given).
     */
    private static void settleAlternatives(Object section, JsonNode own, String prefix, String source) {
        for (Field field : section.getClass().getFields()) {
            if (Modifier.isStatic(field.getModifiers())) {
                continue;
            }
            String key = snake(field.getName());
            ExperimentConfig.Alternative alternative = field.getAnnotation(ExperimentConfig.Alternative.class);
            if (alternative != null) {
                String other = snake(alternative.value());
                if (own.hasNonNull(key) && own.hasNonNull(other)) {
                    throw new InvalidInputException(prefix + key + " and " + prefix + other + " in " + source
                            + " are two ways to give one length; give one of them");
                }
                if (own.hasNonNull(other)) {
                    set(field, section, null);
                }
            } else if (isSection(field.getType()) && get(field, section) != null) {
                settleAlternatives(get(field, section), own.path(key), prefix + key + ".", source);
            }
        }
    }

    private static void set(Field field, Object owner, Object value) {
        try {
            field.set(owner, value);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
        }
    }

    private static boolean isSection(Class<?> type) {
        return type.getName().startsWith(ExperimentConfig.class.getName() + "$") || MethodRecipe.class.isAssignableFrom(type);
    }

    private static Object get(Field field, Object owner) {
        try {
            return field.get(owner);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Object newInstance(Class<?> type) {
        try {
            return type.getConstructor().newInstance();
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(type + " needs a public no-argument constructor", e);
        }
    }

    /** Every {@code @JsonMerge} section present in the YAML must be a mapping. */
    private static void checkSections(JsonNode node, Class<?> type, String prefix, String source) {
        if (node == null || !node.isObject()) {
            return;
        }
        for (Field field : type.getFields()) {
            if (field.isAnnotationPresent(JsonMerge.class)) {
                String key = snake(field.getName());
                JsonNode value = node.get(key);
                if (value != null && !value.isNull() && !value.isObject()) {
                    throw new InvalidInputException("Bad value at " + prefix + key + " in " + source + ": " + value
                            + "; expected a section of key: value pairs");
                }
                checkSections(value, field.getType(), prefix + key + ".", source);
            }
        }
    }

    /** Checks every value a YAML type check cannot: repeats, ranges, names of methods, tasks and regimes. */
    public static void validate(ExperimentConfig c, String source) {
        checkValues(c, new ExperimentConfig(), "", source);
        boolean images = imageSource(c, source);
        Architecture architecture = Architecture.byName(c.model, c.data.images.imageSize);
        boolean rgb = architecture.inputShape(1).get(1) == 3;
        if (rgb != images) {
            throw bad(source, "model", c.model, images ? "an RGB model (resnet18, resnet50, mobilenet_v1) for data.source images"
                    : "small_cnn for data.source demo (1-channel 28x28 images); " + c.model + " takes RGB images: set data.source: images");
        }
        if (images) {
            ExperimentConfig.Images im = c.data.images;
            for (String[] path : new String[][] {{"data.images.upstream", im.upstream}, {"data.images.tasks_root", im.tasksRoot}}) {
                if (path[0].equals("data.images.upstream") && !c.upstream.enabled) {
                    continue; // a transfer-only experiment reads no upstream dataset
                }
                if (path[1] == null || path[1].isBlank()) {
                    throw bad(source, path[0], path[1], "a directory (data.source images reads the datasets from disk)");
                }
            }
            if (!List.of("image_folder", "cifar10", "cifar100").contains(im.upstreamFormat)) {
                throw bad(source, "data.images.upstream_format", im.upstreamFormat, "image_folder, cifar10 or cifar100");
            }
            positive(source, "data.images.upstream_classes", im.upstreamClasses);
            positive(source, "data.images.upstream_train", im.upstreamTrain);
            positive(source, "data.images.upstream_val", im.upstreamVal);
            org.sparsetransfer.core.vision.Resampling.Filter.parse(im.interpolation, "data.images.interpolation in " + source);
            org.sparsetransfer.core.vision.ImageEncoding.parse(im.storage, "data.images.storage in " + source);
            positive(source, "data.images.loader_threads", im.loaderThreads);
            if (im.imageSize < 32 || im.resize < im.imageSize) {
                throw bad(source, "data.images.image_size / resize", im.imageSize + " / " + im.resize,
                        "image_size at least 32 (the ResNets downsample 32 times) and resize at least image_size");
            }
        }
        ExperimentConfig.Data d = c.data;
        positive(source, "data.upstream_train", d.upstreamTrain);
        positive(source, "data.upstream_val", d.upstreamVal);
        positive(source, "data.upstream_test", d.upstreamTest);
        positive(source, "data.task_train", d.taskTrain);
        positive(source, "data.task_test", d.taskTest);
        positive(source, "data.fewshot_per_class", d.fewshotPerClass);
        if (d.upstreamTrain + d.upstreamVal > 60_000) {
            throw bad(source, "data.upstream_train + data.upstream_val", d.upstreamTrain + d.upstreamVal,
                    "at most 60000 (the Fashion-MNIST training set)");
        }
        if (!(c.controls.cooldown > 0 && c.controls.cooldown <= 1)) {
            throw bad(source, "controls.cooldown", c.controls.cooldown,
                    "a fraction in (0, 1]: the share of each control's steps its learning rate decays over (1: each control trained alone)");
        }
        positive(source, "upstream.epochs", c.upstream.epochs);
        positive(source, "upstream.batch_size", c.upstream.batchSize);
        positive(source, "upstream.lr", c.upstream.lr);
        momentum(source, "upstream.momentum", c.upstream.momentum);
        nonNegative(source, "upstream.weight_decay", c.upstream.weightDecay);

        ExperimentConfig.Pruning p = c.pruning;
        if (c.upstream.enabled) {
            nonEmpty(source, "pruning.methods", p.methods);
        }
        for (int i = 0; i < p.methods.size(); i++) {
            PruningMethods.byKey(p.methods.get(i), "pruning.methods[" + i + "] in " + source);
        }
        nonEmpty(source, "pruning.sparsities", p.sparsities);
        for (int i = 0; i < p.sparsities.size(); i++) {
            Double s = p.sparsities.get(i);
            if (s == null || !(s >= 0.0 && s < 1.0)) {
                throw bad(source, "pruning.sparsities[" + i + "]", s, "a sparsity in [0, 1), e.g. 0.9");
            }
        }
        positive(source, "pruning.batch_size", p.batchSize);
        momentum(source, "pruning.momentum", p.momentum);
        nonNegative(source, "pruning.weight_decay", p.weightDecay);
        for (PruningMethod method : PruningMethods.all()) {
            if (method.defaultRecipe() != null) {
                checkValues(p.recipes().get(method.key()), method.defaultRecipe(), "pruning." + method.key() + ".", source);
            }
            method.validate(c, source);
        }
        String pretrained = c.upstream.pretrained;
        if (pretrained != null) {
            if (!pretrained.startsWith("imported-" + c.model + "-")) {
                throw bad(source, "upstream.pretrained", pretrained, "the id of an imported " + c.model
                        + " (imported-" + c.model + "-<hash>, printed by import-weights --model " + c.model + ")");
            }
        }

        imported(c, source);
        dataParallel(source, "upstream", c.upstream.dataParallel);
        dataParallel(source, "pruning", c.pruning.dataParallel);
        nonNegative(source, "training_states.every_steps", c.trainingStates.everySteps);
        positive(source, "data.buffer_mb", c.data.bufferMb);
        for (int i = 0; i < c.fault.divergeTransfer.size(); i++) {
            ExperimentConfig.RunSelector selector = c.fault.divergeTransfer.get(i);
            String key = "fault.diverge_transfer[" + i + "]";
            if (selector.method != null) {
                PruningMethods.byKey(selector.method, key + ".method in " + source);
            }
            if (selector.sparsity != null && !(selector.sparsity >= 0 && selector.sparsity < 1)) {
                throw bad(source, key + ".sparsity", selector.sparsity, "a sparsity in [0, 1)");
            }
            if (selector.task != null) {
                TaskRegistry.metric(c, selector.task, key + ".task in " + source);
            }
            if (selector.regime != null) {
                Regime.parse(selector.regime, key + ".regime in " + source);
            }
        }

        ExperimentConfig.Transfer t = c.transfer;
        nonEmpty(source, "transfer.tasks", t.tasks);
        for (int i = 0; i < t.tasks.size(); i++) {
            TaskRegistry.metric(c, t.tasks.get(i), "transfer.tasks[" + i + "] in " + source);
        }
        nonEmpty(source, "transfer.regimes", t.regimes);
        for (int i = 0; i < t.regimes.size(); i++) {
            Regime.parse(t.regimes.get(i), "transfer.regimes[" + i + "] in " + source);
        }
        nonEmpty(source, "transfer.seeds", t.seeds);
        transferChoices(t, source);
        positive(source, "transfer.batch_size", t.batchSize);
        momentum(source, "transfer.momentum", t.momentum);
        for (Regime regime : Regime.values()) {
            ExperimentConfig.Regime r = t.regime(regime);
            recipe(source, "transfer." + regime.key(), r);
            if (r.seeds != null) {
                nonEmpty(source, "transfer." + regime.key() + ".seeds", r.seeds);
            }
        }
        t.perTask.forEach((task, recipes) -> {
            String section = "transfer.per_task." + task;
            if (!t.tasks.contains(task)) {
                throw new InvalidInputException(section + " in " + source + ": " + task + " is not one of transfer.tasks " + t.tasks
                        + "; add it there or remove its per_task entry");
            }
            for (Regime regime : Regime.values()) {
                ExperimentConfig.Regime own = recipes.get(regime);
                ExperimentConfig.Regime shared = t.regime(regime);
                if (own == null) {
                    continue;
                }
                if (!java.util.Objects.equals(own.seeds, shared.seeds)) {
                    throw new InvalidInputException(section + "." + regime.key() + ".seeds in " + source + ": seeds are set per regime "
                            + "(transfer." + regime.key() + ".seeds), not per task; remove it here");
                }
                recipe(source, section + "." + regime.key(), own);
            }
        });
    }

    /** Labels a checkpoint can have: they name rows, files of plots and Zeppelin filters. */
    private static final java.util.regex.Pattern LABEL = java.util.regex.Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}");

    /**
     * The imported checkpoints: each one file or one id and a label that no built-in method has
     * and no other import has; a transfer-only experiment (upstream.enabled: false) prunes nothing
     * and transfers imports only, its dense baseline imported too.
     */
    private static void imported(ExperimentConfig c, String source) {
        ExperimentConfig.Imported im = c.imported;
        Map<String, String> families = new java.util.HashMap<>();
        for (int i = 0; i < im.checkpoints.size(); i++) {
            ExperimentConfig.ImportedCheckpoint e = im.checkpoints.get(i);
            String key = "imported.checkpoints[" + i + "]";
            label(source, key + ".method", e.method);
            // One label may name a method's checkpoints at several sparsities: they are one family.
            String given = String.valueOf(e.family);
            if (families.containsKey(e.method) && !families.get(e.method).equals(given)) {
                throw bad(source, key + ".family", e.family, "the family of the other checkpoints labelled " + e.method + " ("
                        + families.get(e.method) + ")");
            }
            families.put(e.method, given);
            if (e.family != null) {
                org.sparsetransfer.core.method.MethodFamily family =
                        org.sparsetransfer.core.method.MethodFamily.parse(e.family, key + ".family in " + source);
                if (family == org.sparsetransfer.core.method.MethodFamily.DENSE) {
                    throw bad(source, key + ".family", e.family, "the family of a pruning method; the dense baseline is imported.dense");
                }
            }
            fileOrId(source, key, e);
        }
        if (im.dense != null) {
            if (im.dense.method != null || im.dense.family != null) {
                throw bad(source, "imported.dense", im.dense.method != null ? im.dense.method : im.dense.family,
                        "only file or id: the dense baseline is labelled dense, of the dense family");
            }
            fileOrId(source, "imported.dense", im.dense);
            if (c.upstream.enabled) {
                throw new InvalidInputException("imported.dense in " + source + " is the baseline of a transfer-only experiment "
                        + "(upstream.enabled: false); this experiment trains its own dense model. To start the pipeline from an "
                        + "imported dense model, import it and set upstream.pretrained to its id");
            }
        }
        if (!c.upstream.enabled) {
            if (!c.pruning.methods.isEmpty()) {
                throw bad(source, "pruning.methods", c.pruning.methods, "[] in a transfer-only experiment (upstream.enabled: false), "
                        + "which prunes nothing: list the checkpoints to transfer under imported.checkpoints");
            }
            if (c.upstream.pretrained != null) {
                throw bad(source, "upstream.pretrained", c.upstream.pretrained, "nothing in a transfer-only experiment "
                        + "(upstream.enabled: false); its dense baseline is imported.dense");
            }
            if (im.checkpoints.isEmpty() && im.dense == null) {
                throw new InvalidInputException(source + " is a transfer-only experiment (upstream.enabled: false) without checkpoints: "
                        + "list them under imported.checkpoints (and the dense baseline as imported.dense)");
            }
        }
    }

    private static void label(String source, String key, String label) {
        if (label == null || !LABEL.matcher(label).matches()) {
            throw bad(source, key, label, "a label of letters, digits and _ . + - (at most 64), e.g. acdc_published");
        }
        if (PruningMethods.keys().contains(label)) {
            throw bad(source, key, label, "a label other than a built-in method's key " + PruningMethods.keys()
                    + ", so published and own results never merge, e.g. " + label + "_published");
        }
    }

    private static void fileOrId(String source, String key, ExperimentConfig.ImportedCheckpoint e) {
        if ((e.file == null) == (e.id == null)) {
            throw new InvalidInputException(key + " in " + source + " gives " + (e.file == null ? "neither file nor id" : "both file and id")
                    + "; give the checkpoint's file or the id import-weights printed");
        }
        if (e.file != null && e.file.isBlank()) {
            throw bad(source, key + ".file", e.file, "a file name");
        }
    }

    /** Whether {@code label} may label an import (not a built-in method's key); the same rule as the config's. */
    public static void checkImportLabel(String label, String where) {
        label(where, "the label", label);
    }

    /** Keys of an SGD recipe that an L-BFGS probe (fitted to convergence) has no use for. */
    private static final List<String> SGD_ONLY = List.of("steps", "epochs", "lr", "lr_milestones", "lr_gamma", "lr_grid");

    /**
     * A linear recipe with {@code solver: lbfgs} gives none of the SGD keys (the probe is fitted to
     * convergence with transfer.probe's settings), in the regime's section and in every per-task one.
     */
    private static void checkProbeSections(JsonNode transfer, ExperimentConfig.Transfer t, String source) {
        List<Map.Entry<String, JsonNode>> sections = new java.util.ArrayList<>();
        sections.add(Map.entry("transfer.linear", transfer.path("linear")));
        transfer.path("per_task").fields().forEachRemaining(e -> sections.add(Map.entry("transfer.per_task." + e.getKey() + ".linear",
                e.getValue().path("linear"))));
        for (Map.Entry<String, JsonNode> section : sections) {
            String task = section.getKey().startsWith("transfer.per_task.") ? section.getKey().split("\\.")[2] : null;
            ExperimentConfig.Regime recipe = task == null ? t.linear : t.recipe(task, Regime.LINEAR);
            if (recipe == null) {
                continue; // a null section: validate names it
            }
            if (org.sparsetransfer.core.transfer.LinearSolver.of(recipe.solver, section.getKey() + ".solver in " + source)
                    != org.sparsetransfer.core.transfer.LinearSolver.LBFGS) {
                continue;
            }
            for (String key : SGD_ONLY) {
                if (section.getValue().has(key)) {
                    throw new InvalidInputException(section.getKey() + "." + key + " in " + source + ": the lbfgs solver fits the probe to "
                            + "convergence and takes no " + key + " (its settings are transfer.probe's); remove it, or use solver: sgd");
                }
            }
        }
    }

    /** The settings shared by every run's choices: the validation split and the L-BFGS probe. */
    private static void transferChoices(ExperimentConfig.Transfer t, String source) {
        ExperimentConfig.ValidationSplit v = t.validation;
        if (!(v.fraction > 0 && v.fraction < 1)) {
            throw bad(source, "transfer.validation.fraction", v.fraction, "a fraction in (0, 1), e.g. 0.2");
        }
        if (v.minPerClass < 2) {
            throw bad(source, "transfer.validation.min_per_class", v.minPerClass, "at least 2 (a class needs examples on both sides)");
        }
        if (v.folds < 2) {
            throw bad(source, "transfer.validation.folds", v.folds, "at least 2");
        }
        ExperimentConfig.Probe p = t.probe;
        nonEmpty(source, "transfer.probe.l2_grid", p.l2Grid);
        for (int i = 0; i < p.l2Grid.size(); i++) {
            if (!(p.l2Grid.get(i) > 0)) {
                throw bad(source, "transfer.probe.l2_grid[" + i + "]", p.l2Grid.get(i), "a positive penalty, e.g. 1e-4");
            }
        }
        positive(source, "transfer.probe.tolerance", p.tolerance);
        positive(source, "transfer.probe.max_iterations", p.maxIterations);
        positive(source, "transfer.probe.sgd_tolerance", p.sgdTolerance);
    }

    /** A regime's recipe: one length (steps or epochs), milestones inside it and increasing, a decay factor. */
    private static void recipe(String source, String section, ExperimentConfig.Regime r) {
        if (r.solver != null) {
            if (!section.endsWith("linear")) {
                throw bad(source, section + ".solver", r.solver, "no solver: only the linear regime has one (sgd or lbfgs)");
            }
            org.sparsetransfer.core.transfer.LinearSolver.of(r.solver, section + ".solver in " + source);
        }
        if (r.lrGrid != null) {
            nonEmpty(source, section + ".lr_grid", r.lrGrid);
            for (int i = 0; i < r.lrGrid.size(); i++) {
                if (!(r.lrGrid.get(i) > 0)) {
                    throw bad(source, section + ".lr_grid[" + i + "]", r.lrGrid.get(i), "a positive learning rate");
                }
            }
        }
        if (r.steps == null && r.epochs == null) {
            throw new InvalidInputException(section + " in " + source + " gives no length; give " + section + ".steps or "
                    + section + ".epochs");
        }
        int length = r.steps != null ? r.steps : r.epochs;
        positive(source, section + "." + r.unit(), length);
        positive(source, section + ".lr", r.lr);
        nonNegative(source, section + ".weight_decay", r.weightDecay);
        if (!(r.lrGamma > 0 && r.lrGamma <= 1)) {
            throw bad(source, section + ".lr_gamma", r.lrGamma, "a factor in (0, 1]");
        }
        if (r.lrMilestones != null) {
            int previous = 0;
            for (int i = 0; i < r.lrMilestones.size(); i++) {
                Integer m = r.lrMilestones.get(i);
                if (m == null || m <= previous || m >= length) {
                    throw bad(source, section + ".lr_milestones[" + i + "]", m, "increasing " + r.unit() + " after 0 and before the run's "
                            + length + " " + r.unit() + " (milestones count in the unit the run's length is given in)");
                }
                previous = m;
            }
        }
    }

    /**
     * Settles what the field defaults cannot: each {@code per_task} entry becomes its regime's
     * whole recipe with the entry's keys merged in (an entry that gives {@code steps} where the
     * regime gives {@code epochs} drops the inherited epochs, and the other way round).
     */
    private static void resolveTransferRecipes(JsonNode transfer, ExperimentConfig.Transfer t, ObjectMapper mapper, String source)
            throws IOException {
        Map<String, ExperimentConfig.TaskRecipes> resolved = new java.util.LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = transfer.path("per_task").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> entry = it.next();
            ExperimentConfig.TaskRecipes recipes = new ExperimentConfig.TaskRecipes();
            for (Regime regime : Regime.values()) {
                JsonNode own = entry.getValue().get(regime.key());
                if (own == null || !own.isObject()) {
                    continue;
                }
                ExperimentConfig.Regime shared = t.regime(regime);
                ExperimentConfig.Regime merged = mapper.readerForUpdating(mapper.treeToValue(mapper.valueToTree(shared),
                        ExperimentConfig.Regime.class)).readValue(own);
                settleLength(merged, own, "transfer.per_task." + entry.getKey() + "." + regime.key(), shared, source);
                recipes.set(regime, merged);
            }
            resolved.put(entry.getKey(), recipes);
        }
        t.perTask = resolved;
    }

    private static void settleLength(ExperimentConfig.Regime r, JsonNode own, String section, ExperimentConfig.Regime inherited,
            String source) {
        settleAlternatives(r, own, section + ".", source);
        if (!inherited.unit().equals(r.unit()) && inherited.lrMilestones != null && !own.has("lr_milestones")) {
            throw new InvalidInputException(section + " in " + source + " counts in " + r.unit() + " but would inherit lr_milestones "
                    + inherited.lrMilestones + " in " + inherited.unit() + "; give its lr_milestones in " + r.unit() + " too");
        }
    }

    /** A run length given as {@code stepsKey} or {@code epochsKey}: positive (or zero where {@code zeroAllowed}), finite. */
    public static void length(String source, String section, String stepsKey, String epochsKey, RunLength length,
            boolean zeroAllowed) {
        String expected = zeroAllowed ? "zero or more" : "a positive number";
        if (length.inEpochs()) {
            double epochs = length.epochs();
            if (!(zeroAllowed ? epochs >= 0 : epochs > 0) || Double.isInfinite(epochs)) {
                throw bad(source, section + "." + epochsKey, epochs, expected + " of epochs");
            }
        } else if (zeroAllowed ? length.steps() < 0 : length.steps() <= 0) {
            throw bad(source, section + "." + stepsKey, length.steps(), expected);
        }
    }

    private static void dataParallel(String source, String section, ExperimentConfig.DataParallel parallel) {
        positive(source, section + ".data_parallel.workers", parallel.workers);
        positive(source, section + ".data_parallel.local_steps", parallel.localSteps);
    }

    public static void nonEmpty(String source, String key, List<?> values) {
        if (values == null || values.isEmpty()) {
            throw bad(source, key, values, "a non-empty list");
        }
    }

    public static void positive(String source, String key, int value) {
        if (value <= 0) {
            throw bad(source, key, value, "a positive number");
        }
    }

    public static void nonNegative(String source, String key, int value) {
        if (value < 0) {
            throw bad(source, key, value, "zero or more");
        }
    }

    public static void positive(String source, String key, float value) {
        if (!(value > 0) || Float.isInfinite(value)) {
            throw bad(source, key, value, "a positive number");
        }
    }

    public static void positive(String source, String key, double value) {
        if (!(value > 0) || Double.isInfinite(value)) {
            throw bad(source, key, value, "a positive number");
        }
    }

    public static void nonNegative(String source, String key, float value) {
        if (!(value >= 0) || Float.isInfinite(value)) {
            throw bad(source, key, value, "zero or more");
        }
    }

    public static void nonNegative(String source, String key, double value) {
        if (!(value >= 0) || Double.isInfinite(value)) {
            throw bad(source, key, value, "zero or more");
        }
    }

    public static void fraction(String source, String key, double value) {
        if (!(value > 0 && value < 1)) {
            throw bad(source, key, value, "a fraction in (0, 1)");
        }
    }

    public static void momentum(String source, String key, float value) {
        if (!(value >= 0 && value < 1)) {
            throw bad(source, key, value, "a momentum in [0, 1)");
        }
    }

    private static boolean imageSource(ExperimentConfig c, String source) {
        return switch (c.data.source) {
            case DEMO -> false;
            case IMAGES -> true;
        };
    }


    public static InvalidInputException bad(String source, String key, Object value, String expected) {
        return new InvalidInputException("Bad value for " + key + " in " + source + ": " + value + "; expected " + expected);
    }

    private static String path(JsonMappingException e) {
        StringBuilder sb = new StringBuilder();
        for (JsonMappingException.Reference r : e.getPath()) {
            if (r.getFieldName() != null) {
                sb.append(sb.length() == 0 ? "" : ".").append(r.getFieldName());
            } else if (r.getIndex() >= 0) {
                sb.append('[').append(r.getIndex()).append(']');
            }
        }
        return sb.length() == 0 ? "the top level" : sb.toString();
    }

    private static String line(JsonProcessingException e) {
        return e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr() + ")";
    }

    private static String snake(String name) {
        return name.replaceAll("([a-z0-9])([A-Z])", "$1_$2").toLowerCase(Locale.ROOT);
    }
}
