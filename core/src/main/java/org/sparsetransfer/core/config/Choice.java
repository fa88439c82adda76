package org.sparsetransfer.core.config;

import java.util.Arrays;
import org.sparsetransfer.core.InvalidInputException;

/** A config value that names one of a fixed set of choices (an enum), parsed in one place with one error. */
public final class Choice {
    private Choice() {}

    /** A choice's name in configs, ids and tables. */
    public interface Named {
        String key();
    }

    /** The choice named {@code name}, or an error at {@code where} listing the choices. */
    public static <E extends Enum<E> & Named> E parse(Class<E> type, String name, String where, String what) {
        E[] values = type.getEnumConstants();
        return Arrays.stream(values).filter(v -> v.key().equals(name)).findFirst()
                .orElseThrow(() -> new InvalidInputException("Unknown " + what + " '" + name + "' at " + where + "; expected one of "
                        + Arrays.stream(values).map(Named::key).toList()));
    }
}
