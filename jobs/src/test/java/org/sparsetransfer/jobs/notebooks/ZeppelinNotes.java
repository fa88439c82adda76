package org.sparsetransfer.jobs.notebooks;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The Zeppelin notes in notebooks/, read as Zeppelin 0.11/0.12 stores them, with their structure
 * checked and their SQL paragraphs turned into runnable statements (dynamic forms replaced by their
 * defaults, or by the values given).
 */
public final class ZeppelinNotes {
    public static final Path DIR = Path.of("").toAbsolutePath().getParent().resolve("notebooks");
    /** Zeppelin's built-in visualizations (zeppelin-web's result graph modes). */
    static final Set<String> GRAPH_MODES = Set.of("table", "multiBarChart", "pieChart", "stackedAreaChart", "lineChart", "scatterChart");
    static final Set<String> INTERPRETERS = Set.of("%spark.sql", "%md");
    /** {@code ${name=default,options}} (paragraph form) or {@code $${...}} (note form). */
    private static final Pattern FORM = Pattern.compile("\\$(\\$?)\\{([^}]*)}");
    private static final Pattern FILE_NAME = Pattern.compile("(.+)_([A-Z0-9]{9})\\.zpln");

    public record Paragraph(String note, String title, String interpreter, String body, List<String> graphModes) {}

    private ZeppelinNotes() {}

    public static List<Path> files() throws IOException {
        try (Stream<Path> files = Files.list(DIR)) {
            return files.filter(f -> f.toString().endsWith(".zpln")).sorted().toList();
        }
    }

    /** The note's paragraphs; throws AssertionError naming the first structural problem. */
    public static List<Paragraph> read(Path file) throws IOException {
        JsonNode note = new ObjectMapper().readTree(file.toFile());
        Matcher name = FILE_NAME.matcher(file.getFileName().toString());
        require(name.matches(), file + ": name must be <Title>_<ID>.zpln with a 9-character Zeppelin id");
        require(name.group(1).equals(note.path("name").asText()), file + ": file title differs from the note's name");
        require(name.group(2).equals(note.path("id").asText()), file + ": file id differs from the note's id");
        require("spark".equals(note.path("defaultInterpreterGroup").asText()), file + ": default interpreter group must be spark");
        for (String field : List.of("noteParams", "noteForms", "config", "info")) {
            require(note.path(field).isObject(), file + ": missing note field " + field);
        }
        require(note.path("paragraphs").isArray() && !note.path("paragraphs").isEmpty(), file + ": no paragraphs");
        List<Paragraph> paragraphs = new ArrayList<>();
        for (JsonNode p : note.path("paragraphs")) {
            String text = p.path("text").asText();
            String interpreter = text.split("\\s", 2)[0];
            require(INTERPRETERS.contains(interpreter), file + ": paragraph starts with '" + interpreter + "', expected one of " + INTERPRETERS);
            require(!p.path("id").asText().isEmpty() && p.path("config").isObject() && p.path("settings").path("params").isObject()
                    && p.path("settings").path("forms").isObject(), file + ": paragraph lacks id, config or settings");
            List<String> modes = new ArrayList<>();
            p.path("config").path("results").forEach(r -> modes.add(r.path("graph").path("mode").asText()));
            for (String mode : modes) {
                require(GRAPH_MODES.contains(mode), file + ": graph mode '" + mode + "' is not one of Zeppelin's " + GRAPH_MODES);
            }
            if (interpreter.equals("%spark.sql")) {
                require(!modes.isEmpty(), file + ": SQL paragraph '" + p.path("title").asText() + "' has no result display");
            }
            paragraphs.add(new Paragraph(note.path("name").asText(), p.path("title").asText(), interpreter,
                    text.substring(interpreter.length()).strip(), modes));
        }
        return paragraphs;
    }

    /** The paragraph's SQL statements, forms replaced by {@code values} or else by their defaults. */
    public static List<String> statements(Paragraph p, Map<String, String> values) {
        Matcher m = FORM.matcher(p.body());
        StringBuilder sql = new StringBuilder();
        while (m.find()) {
            String spec = m.group(2).replaceFirst("^checkbox:", "");
            int eq = spec.indexOf('=');
            require(eq > 0, p.note() + " / " + p.title() + ": form ${" + spec + "} has no default");
            String form = spec.substring(0, eq);
            String value = values.getOrDefault(form, spec.substring(eq + 1).split(",", 2)[0]);
            m.appendReplacement(sql, Matcher.quoteReplacement(value));
        }
        m.appendTail(sql);
        // Comment lines go first: a ';' inside one does not end a statement.
        String code = sql.toString().lines().filter(l -> !l.strip().startsWith("--")).collect(java.util.stream.Collectors.joining("\n"));
        List<String> statements = new ArrayList<>();
        for (String statement : code.split(";")) {
            if (!statement.isBlank()) {
                statements.add(statement.strip());
            }
        }
        return statements;
    }

    private static void require(boolean ok, String problem) {
        if (!ok) {
            throw new AssertionError(problem);
        }
    }
}
