package org.sparsetransfer.core.config;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Map;
import java.util.TreeMap;
import org.sparsetransfer.core.method.PruningMethod;
import org.sparsetransfer.core.method.PruningMethods;

/**
 * What each stage's output means beyond its config: one version per stage, and per pruning
 * method. Ids hash the config, not the code, so a change of the code that alters what a stage
 * produces from the same config (a seed derivation, a data order, a split rule, a schedule) must
 * bump that stage's version here: the stage's ids change with it, and a warehouse holding outputs
 * of the old code recomputes them instead of reusing them. Ids carry a version only from 2 on, so
 * every id made before versions existed keeps meaning what it meant.
 *
 * <p>{@code SemanticsTest} holds each version's fingerprint (a digest of the machine-independent
 * decisions the stage makes: splits, seeds, batch orders, schedules, pruning choices on fixed
 * weights, augmentation); it fails when a fingerprint changes and the version does not. Numeric
 * kernels (libtorch's, whose last bits differ between CPUs) are outside that fingerprint; every
 * checkpoint and result records the software that computed it instead.
 */
public final class Semantics {
    public static final String DATA = "data";
    public static final String UPSTREAM = "upstream";
    public static final String TRANSFER = "transfer";

    /**
     * The current version of every stage; a pruning method's stage is {@code prune.<key>}, its
     * version the method's own ({@link PruningMethod#semantics()}).
     */
    // Version 2 of data, upstream and transfer: image resizing became Pillow's (antialiased), as torchvision uses it.
    // Version 3 of upstream: one training path; a data-parallel worker's batch order continues across rounds from one
    // seed per worker (worker 0's the run's), so its results changed (pruning methods were at 2 for the same reason).
    // Version 3 of oneshot, gmp_star, gmp, imp and colt: a run's seed derives from the method's key, no longer from
    // its place in a list of methods.
    private static final Map<String, Integer> VERSIONS = versionsOf(Map.of(DATA, 2, UPSTREAM, 3, TRANSFER, 2));

    private static Map<String, Integer> versionsOf(Map<String, Integer> stages) {
        Map<String, Integer> all = new TreeMap<>(stages);
        for (PruningMethod method : PruningMethods.all()) {
            if (method != PruningMethods.dense()) {
                all.put(prune(method), method.semantics());
            }
        }
        return Map.copyOf(all);
    }

    private Semantics() {}

    /** The stage of pruning with {@code method}. */
    public static String prune(PruningMethod method) {
        return "prune." + method.key();
    }

    /** Every stage and its version, in name order. */
    public static Map<String, Integer> versions() {
        return new TreeMap<>(VERSIONS);
    }

    public static int version(String stage) {
        Integer version = VERSIONS.get(stage);
        if (version == null) {
            throw new IllegalArgumentException("No semantics version for stage " + stage + "; add one to " + Semantics.class.getName());
        }
        return version;
    }

    /** Adds {@code stage}'s version to an id's key, from version 2 on. */
    static void addTo(ObjectNode key, String stage) {
        int version = version(stage);
        if (version > 1) {
            key.put("semantics", version);
        }
    }
}
