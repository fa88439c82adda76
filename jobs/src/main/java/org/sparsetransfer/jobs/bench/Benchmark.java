package org.sparsetransfer.jobs.bench;

import java.util.LinkedHashMap;
import java.util.List;

/** One benchmark of {@code bench}: figures measured side by side in one run, with the lines that explain them. */
interface Benchmark {
    /** File name under the results directory, without {@code .md}. */
    String name();

    String title();

    Result run(boolean quick) throws Exception;

    /** Figures (name to value, printed as {@code name=value}) and the details behind them (Markdown lines). */
    record Result(LinkedHashMap<String, String> figures, List<String> details) {}
}
