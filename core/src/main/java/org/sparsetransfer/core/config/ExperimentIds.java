package org.sparsetransfer.core.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.sparsetransfer.core.checkpoint.CheckpointCodec;
import org.sparsetransfer.core.method.PruningMethod;
import org.sparsetransfer.core.method.PruningMethods;

/**
 * Content-derived ids, as in OpenLTH: a stage's id hashes the hyperparameters that shape its
 * output, keeping only values that differ from the defaults, plus its parent's id and the
 * stage's semantics version ({@link Semantics}, from version 2 on). Adding an option with a
 * default therefore leaves every existing id unchanged, the same config and code always yield
 * the same ids (which is what lets a rerun skip finished stages), and a change of the code that
 * alters a stage's output gives it new ids.
 */
public final class ExperimentIds {
    private static final ObjectMapper JSON = new ObjectMapper()
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE);
    /** Data keys that say where files are or how data is held, not what the data is. */
    private static final List<String> LOCATION_KEYS = List.of("dir", "fetch", "fashion_mnist", "mnist", "digits", "buffer_mb");
    /** Image dataset keys that say where trees are, not what they hold. */
    private static final List<String> IMAGE_LOCATION_KEYS = List.of("upstream", "tasks_root", "loader_threads");

    private final ExperimentConfig config;
    private final ExperimentConfig defaults = new ExperimentConfig();

    public ExperimentIds(ExperimentConfig config) {
        this.config = config;
    }

    /** Identity of the ingested datasets: the split rules and sizes. */
    public String dataHash() {
        ObjectNode data = nonDefault(config.data, defaults.data);
        LOCATION_KEYS.forEach(data::remove);
        if (data.get("images") instanceof ObjectNode images) {
            IMAGE_LOCATION_KEYS.forEach(images::remove);
        }
        if (config.data.source == DataSource.IMAGES) {
            // How the images are stored changes what trains (JPEG is lossy): named even at its default,
            // so warehouses ingested before images were stored encoded are not mistaken for it.
            (data.get("images") instanceof ObjectNode images ? images : data.putObject("images")).put("storage", config.data.images.storage);
        }
        Semantics.addTo(data, Semantics.DATA);
        return hash("data", data);
    }

    /** The dense upstream checkpoint. */
    public String denseId() {
        ObjectNode key = JSON.createObjectNode();
        key.put("data", dataHash());
        key.put("seed", config.seed);
        key.put("model", config.model);
        key.set("upstream", nonDefault(config.upstream, defaults.upstream));
        Semantics.addTo(key, Semantics.UPSTREAM);
        return "dense-" + hash("upstream", key);
    }

    /**
     * A pruned checkpoint: the dense parent, the method's recipe, the pruning settings all methods
     * share and the target sparsity. Other methods' sections never enter it, so adding a method
     * (to the registry or to a config) changes no other method's ids.
     */
    public String prunedId(PruningMethod method, double sparsity) {
        if (method == PruningMethods.dense()) {
            return denseId();
        }
        ObjectNode pruning = sharedPruningSettings();
        if (method.defaultRecipe() != null) {
            ObjectNode own = nonDefault(config.pruning.recipes().get(method.key()), method.defaultRecipe());
            if (!own.isEmpty()) {
                pruning.set(method.key(), own);
            }
        }
        ObjectNode key = JSON.createObjectNode();
        key.put("parent", denseId());
        key.put("method", method.key());
        key.put("sparsity", sparsity);
        key.set("pruning", pruning);
        if (method.chained()) {
            // A chain's checkpoint depends on the targets it passed through on the way.
            key.set("chain", JSON.valueToTree(method.targets(config).stream().filter(s -> s <= sparsity).sorted().toList()));
        }
        addSemantics(key, method);
        return String.format("%s-%04d-%s", method.key(), Math.round(sparsity * 10000), hash("prune", key));
    }

    /** The pruning settings every method shares (batch, optimizer, criterion, ...): no method's section, no method list or targets. */
    public ObjectNode sharedPruningSettings() {
        ObjectNode common = nonDefault(config.pruning, defaults.pruning);
        common.remove("methods");
        common.remove("sparsities");
        PruningMethods.all().forEach(m -> common.remove(m.key()));
        return common;
    }

    /** Adds the semantics version of {@code method}'s checkpoints to an id's key (from version 2 on). */
    public void addSemantics(ObjectNode key, PruningMethod method) {
        Semantics.addTo(key, Semantics.prune(method));
    }

    /** An id derived from the dense checkpoint: {@code prefix-hash} of the dense id and {@code fields} (IMP's rewind point). */
    public String denseDerivedId(String prefix, ObjectNode fields) {
        ObjectNode key = JSON.createObjectNode();
        key.put("parent", denseId());
        key.setAll(fields);
        return prefix + "-" + hash(prefix, key);
    }

    /** The hash of a method's own intermediate checkpoint (e.g. a COLT round): {@code fields} and the dense parent. */
    public String derivedHash(String stage, ObjectNode fields) {
        ObjectNode key = JSON.createObjectNode();
        key.put("parent", denseId());
        key.setAll(fields);
        return hash(stage, key);
    }

    /** An empty key for the methods' own id fields. */
    public static ObjectNode newKey() {
        return JSON.createObjectNode();
    }

    /** A value as the ids' JSON. */
    public static JsonNode toJson(Object value) {
        return JSON.valueToTree(value);
    }

    /**
     * The dense_extended control of {@code budget} extra steps, the last {@code cooldown} fraction
     * of them a branch off the shared trunk.
     */
    public String controlId(int budget, double cooldown) {
        ObjectNode key = JSON.createObjectNode();
        key.put("parent", denseId());
        key.put("method", org.sparsetransfer.core.experiment.DenseExtension.METHOD);
        key.put("budget", budget);
        key.put("cooldown", cooldown);
        return String.format("%s-%d-%s", org.sparsetransfer.core.experiment.DenseExtension.METHOD, budget, hash("control", key));
    }

    /** Identity of the transfer recipe (not the grid: tasks, regimes and seeds are row keys). */
    public String transferSettingsHash() {
        ObjectNode transfer = nonDefault(config.transfer, defaults.transfer);
        transfer.remove("tasks");
        transfer.remove("regimes");
        transfer.remove("seeds");
        // Seeds pick runs, not their settings (results are keyed by seed): a regime's own list leaves the hash alone.
        for (org.sparsetransfer.core.transfer.Regime regime : org.sparsetransfer.core.transfer.Regime.values()) {
            if (transfer.get(regime.key()) instanceof ObjectNode recipe) {
                recipe.remove("seeds");
                if (recipe.isEmpty()) {
                    transfer.remove(regime.key());
                }
            }
        }
        ObjectNode key = JSON.createObjectNode();
        key.put("data", dataHash());
        key.set("transfer", transfer);
        Semantics.addTo(key, Semantics.TRANSFER);
        return hash("transfer", key);
    }

    /** Fields of {@code value} whose JSON differs from {@code defaultValue}'s, recursively. */
    public static ObjectNode nonDefault(Object value, Object defaultValue) {
        return diff((ObjectNode) JSON.valueToTree(value), (ObjectNode) JSON.valueToTree(defaultValue));
    }

    private static ObjectNode diff(ObjectNode actual, ObjectNode defaults) {
        ObjectNode out = JSON.createObjectNode();
        for (Iterator<Map.Entry<String, JsonNode>> it = actual.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            JsonNode d = defaults.get(e.getKey());
            if (e.getValue().isObject() && d != null && d.isObject()) {
                ObjectNode sub = diff((ObjectNode) e.getValue(), (ObjectNode) d);
                if (!sub.isEmpty()) {
                    out.set(e.getKey(), sub);
                }
            } else if (!e.getValue().equals(d)) {
                out.set(e.getKey(), e.getValue());
            }
        }
        return out;
    }

    private static String hash(String stage, JsonNode key) {
        String canonical = stage + ":" + canonical(key);
        return CheckpointCodec.checksum(canonical.getBytes(StandardCharsets.UTF_8)).substring(0, 16);
    }

    /** JSON with object keys sorted, so field order never changes a hash. */
    private static String canonical(JsonNode node) {
        if (node.isObject()) {
            TreeMap<String, String> sorted = new TreeMap<>();
            node.fields().forEachRemaining(e -> sorted.put(e.getKey(), canonical(e.getValue())));
            StringBuilder sb = new StringBuilder("{");
            sorted.forEach((k, v) -> sb.append(sb.length() > 1 ? "," : "").append('"').append(k).append("\":").append(v));
            return sb.append('}').toString();
        }
        if (node.isArray()) {
            StringBuilder sb = new StringBuilder("[");
            node.forEach(n -> sb.append(sb.length() > 1 ? "," : "").append(canonical(n)));
            return sb.append(']').toString();
        }
        return node.toString();
    }
}
