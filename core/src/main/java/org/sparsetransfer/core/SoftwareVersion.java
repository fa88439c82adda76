package org.sparsetransfer.core;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/**
 * The software that produced a result, as recorded in every checkpoint, transfer result and run:
 * the project's version and {@code git describe} at build time, and the versions of DJL and
 * libtorch, whose kernels decide the last bits of every trained weight. Ids say what a result
 * is meant to be (the config and the stage's semantics version); this says what computed it.
 */
public final class SoftwareVersion {
    private static final String RESOURCE = "/sparse-transfer/version.properties";
    private static final String CURRENT = read();

    private SoftwareVersion() {}

    /** E.g. {@code sparse-transfer 0.1.0-SNAPSHOT (git 1a2b3c4d5e6f-dirty), DJL 0.36.0, libtorch 2.7.1}. */
    public static String current() {
        return CURRENT;
    }

    private static String read() {
        Properties p = new Properties();
        try (InputStream in = SoftwareVersion.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(RESOURCE + " is missing from the build");
            }
            p.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return "sparse-transfer " + value(p, "version") + " (git " + value(p, "git") + "), DJL " + value(p, "djl")
                + ", libtorch " + value(p, "libtorch");
    }

    /** A property, or "unknown" where the build had nothing to fill in (e.g. no git clone). */
    private static String value(Properties p, String key) {
        String v = p.getProperty(key, "");
        return v.isBlank() || v.startsWith("${") ? "unknown" : v;
    }
}
