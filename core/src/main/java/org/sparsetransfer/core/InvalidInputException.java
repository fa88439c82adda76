package org.sparsetransfer.core;

/**
 * A problem with something the user supplied (config, dataset file, checkpoint): the message
 * names the thing and what was expected, so the CLI can print it alone and exit non-zero.
 */
public class InvalidInputException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public InvalidInputException(String message) {
        super(message);
    }

    public InvalidInputException(String message, Throwable cause) {
        super(message, cause);
    }

    /** The first InvalidInputException in {@code t}'s cause chain (Spark wraps task failures), or null. */
    public static InvalidInputException find(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof InvalidInputException found) {
                return found;
            }
        }
        return null;
    }
}
