package org.sparsetransfer.core.method;

import java.util.function.Supplier;
import org.sparsetransfer.core.config.ExperimentConfig;

/** A method with a recipe of type {@code R}: its key, family, recipe type and semantics version in one place. */
abstract class RecipeMethod<R extends MethodRecipe> implements PruningMethod {
    private final String key;
    private final MethodFamily family;
    private final Class<R> recipeType;
    private final Supplier<R> defaults;
    private final int semantics;

    RecipeMethod(String key, MethodFamily family, Class<R> recipeType, Supplier<R> defaults, int semantics) {
        this.key = key;
        this.family = family;
        this.recipeType = recipeType;
        this.defaults = defaults;
        this.semantics = semantics;
    }

    @Override
    public final String key() {
        return key;
    }

    @Override
    public final MethodFamily family() {
        return family;
    }

    @Override
    public final MethodRecipe defaultRecipe() {
        return defaults.get();
    }

    @Override
    public final int semantics() {
        return semantics;
    }

    /** This method's recipe in {@code config}. */
    final R recipe(ExperimentConfig config) {
        return config.pruning.recipe(key, recipeType);
    }

    /** "pruning.<key>.<field>", for errors. */
    final String at(String field) {
        return "pruning." + key + "." + field;
    }
}
