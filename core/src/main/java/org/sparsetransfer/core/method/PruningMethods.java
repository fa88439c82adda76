package org.sparsetransfer.core.method;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.sparsetransfer.core.InvalidInputException;

/**
 * The registry of pruning methods: the one list a config's {@code pruning.methods} and
 * {@code pruning.<key>} sections are read through. A new method is one class and one line here.
 */
public final class PruningMethods {
    private static final List<PruningMethod> ALL = List.of(
            new DenseMethod(),
            new OneShotMethod(),
            new GmpStarMethod(),
            new GmpMethod(),
            new ImpMethod(),
            new ColtMethod(),
            new AcDcMethod(),
            new RigLMethod(),
            new NmMethod());

    private PruningMethods() {}

    /** Every registered method, in registry order (which nothing but listings depends on). */
    public static List<PruningMethod> all() {
        return ALL;
    }

    /** The method {@code key} names, or an error at {@code where} listing the keys. */
    public static PruningMethod byKey(String key, String where) {
        return ALL.stream().filter(m -> m.key().equals(key)).findFirst()
                .orElseThrow(() -> new InvalidInputException("Unknown pruning method '" + key + "' at " + where
                        + "; expected one of " + keys()));
    }

    /** The dense baseline. */
    public static PruningMethod dense() {
        return ALL.get(0);
    }

    public static List<String> keys() {
        return ALL.stream().map(PruningMethod::key).toList();
    }

    /** Each method's recipe at its defaults, by key (a config's pruning sections before it is read). */
    public static LinkedHashMap<String, MethodRecipe> defaultRecipes() {
        LinkedHashMap<String, MethodRecipe> recipes = new LinkedHashMap<>();
        for (PruningMethod m : ALL) {
            if (m.defaultRecipe() != null) {
                recipes.put(m.key(), m.defaultRecipe());
            }
        }
        return recipes;
    }

    /** The keys of the methods that have a recipe section. */
    public static Map<String, Class<? extends MethodRecipe>> recipeTypes() {
        Map<String, Class<? extends MethodRecipe>> types = new LinkedHashMap<>();
        defaultRecipes().forEach((key, recipe) -> types.put(key, recipe.getClass()));
        return types;
    }
}
