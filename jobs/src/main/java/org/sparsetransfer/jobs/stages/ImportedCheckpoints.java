package org.sparsetransfer.jobs.stages;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.sparsetransfer.core.InvalidInputException;
import org.sparsetransfer.core.IoErrors;
import org.sparsetransfer.core.checkpoint.CheckpointCodec;
import org.sparsetransfer.core.checkpoint.StateDictImport;
import org.sparsetransfer.core.config.ExperimentConfig;
import org.sparsetransfer.core.io.FileSource;
import org.sparsetransfer.core.method.MethodFamily;
import org.sparsetransfer.core.method.PruningMethods;
import org.sparsetransfer.core.model.Architecture;
import org.sparsetransfer.jobs.tables.CheckpointTable;

/**
 * Checkpoints made elsewhere: importing a PyTorch file into the checkpoints table (the
 * {@code import-weights} command, and the files a config lists under {@code imported}), and
 * finding the imports a config lists, under the labels it gives them.
 *
 * <p>An import's id hashes the file's bytes with its label and family, so importing the same
 * file again changes nothing. A file a config lists is read once: its row records where it came
 * from (the file, its length and modification time), and a later run that finds that record
 * takes the stored checkpoint without reading the file.
 */
public final class ImportedCheckpoints {
    public static final String STAGE = "import";

    private ImportedCheckpoints() {}

    /** The id of an import: the model, then a hash of the file's SHA-256, the label and the family. */
    static String id(String model, String sha256, String label, MethodFamily family) {
        return "imported-" + model + "-" + CheckpointCodec.checksum((sha256 + "|" + label + "|" + family.key())
                .getBytes(StandardCharsets.UTF_8)).substring(0, 16);
    }

    /**
     * Reads {@code location} as a checkpoint of {@code architecture} and makes its record, printing
     * what the import matched and ignored.
     */
    public static CheckpointRecord read(Architecture architecture, Integer numClasses, FileSource files, String location, String label,
            MethodFamily family, String experiment) {
        long start = System.nanoTime();
        StageContext.log(STAGE, "reading " + location + " as " + architecture.name() + " (" + architecture.referenceLayout() + " keys)");
        StateDictImport.Imported imported = StateDictImport.read(architecture, numClasses, files, location);
        String source = fingerprint(files, location);
        imported.report().lines(architecture).forEach(line -> StageContext.log(STAGE, "  " + line));
        return CheckpointRecord.imported(id(architecture.name(), imported.sha256(), label, family), label, family.key(),
                imported.weights(), imported.mask(), (System.nanoTime() - start) / 1e9, experiment, source);
    }

    /** Where a file came from, as the checkpoints table records it: its location, length and modification time. */
    static String fingerprint(FileSource files, String location) {
        try {
            String qualified = files.qualified(location);
            return String.format(Locale.ROOT, "%s (%d bytes, modified %s)", qualified, files.length(location),
                    Instant.ofEpochMilli(files.modified(location)));
        } catch (IOException e) {
            throw new InvalidInputException("Cannot read weights file " + location + ": " + IoErrors.describe(e), e);
        }
    }

    /** One imported checkpoint of a config: its label and family in the grid, and its file or id. */
    record Entry(String label, MethodFamily family, String file, String id) {
        String describe() {
            return label + " (" + (file != null ? file : id) + ")";
        }
    }

    /** The config's imported checkpoints: the dense baseline (labelled dense) first, each file resolved against imported.dir. */
    static List<Entry> entries(ExperimentConfig config) {
        List<Entry> entries = new ArrayList<>();
        ExperimentConfig.Imported im = config.imported;
        if (im.dense != null) {
            entries.add(new Entry(PruningMethods.dense().key(), MethodFamily.DENSE, resolve(im.dir, im.dense.file), im.dense.id));
        }
        for (ExperimentConfig.ImportedCheckpoint c : im.checkpoints) {
            entries.add(new Entry(c.method, c.family == null ? null : MethodFamily.parse(c.family, "imported.checkpoints"),
                    resolve(im.dir, c.file), c.id));
        }
        return entries;
    }

    private static String resolve(String dir, String file) {
        if (file == null || dir == null || file.startsWith("/") || file.contains("://")) {
            return file;
        }
        return FileSource.resolve(dir, file);
    }

    /**
     * The config's imported checkpoints as the grid shows them (each under its label, of its
     * family), importing the files not imported yet when {@code importMissing} (the transfer
     * stage), else failing for them with what to run (the report).
     */
    static List<CheckpointRecord> resolve(StageContext ctx, boolean importMissing) {
        List<Entry> entries = entries(ctx.config());
        if (entries.isEmpty()) {
            return List.of();
        }
        Architecture architecture = Architecture.byName(ctx.config().model, ctx.config().data.images.imageSize);
        List<CheckpointRecord> found = new ArrayList<>();
        List<CheckpointRecord> toStore = new ArrayList<>();
        for (Entry e : entries) {
            CheckpointRecord record = e.id() != null ? byId(ctx, e) : byFile(ctx, e, architecture, importMissing, toStore);
            String family = e.family() != null ? e.family().key() : record.family() != null ? record.family()
                    : MethodFamily.UNSPECIFIED.key();
            found.add(record.labelled(e.label(), family));
        }
        Map<String, String> cells = new LinkedHashMap<>();
        for (CheckpointRecord r : found) {
            String cell = String.format(Locale.ROOT, "%s at sparsity %.4f", r.method(), r.targetSparsity());
            String other = cells.put(cell, r.id());
            if (other != null && !other.equals(r.id())) {
                throw new InvalidInputException("Imported checkpoints " + other + " and " + r.id() + " are both " + cell
                        + ", one cell of the tables; give them different labels");
            }
        }
        if (!toStore.isEmpty()) {
            TrainingJobs.persist(() -> ctx.checkpoints().write(toStore));
            toStore.forEach(r -> StageContext.log(STAGE, String.format(Locale.ROOT, "stored id=%s method=%s sparsity=%.4f", r.id(),
                    r.method(), r.actualSparsity())));
        }
        return found;
    }

    private static CheckpointRecord byId(StageContext ctx, Entry e) {
        Optional<CheckpointRecord> stored = ctx.checkpoints().describe(List.of(e.id())).stream().findFirst();
        return stored.orElseThrow(() -> new InvalidInputException("Imported checkpoint " + e.describe() + " is not in "
                + ctx.warehouse().checkpoints() + "; import it first: bin/sparse-transfer import-weights --model " + ctx.config().model
                + " --file FILE --method " + e.label() + " --out " + ctx.warehouse().root()));
    }

    private static CheckpointRecord byFile(StageContext ctx, Entry e, Architecture architecture, boolean importMissing,
            List<CheckpointRecord> toStore) {
        FileSource files = ctx.files();
        String source = fingerprint(files, e.file());
        MethodFamily family = e.family() != null ? e.family()
                : e.label().equals(PruningMethods.dense().key()) ? MethodFamily.DENSE : MethodFamily.UNSPECIFIED;
        Map<String, CheckpointRecord> bySource = new LinkedHashMap<>();
        ctx.checkpoints().describeBySource(source).forEach(r -> bySource.put(r.method() + "|" + r.family(), r));
        CheckpointRecord stored = bySource.get(e.label() + "|" + family.key());
        if (stored != null) {
            StageContext.log(STAGE, "imported " + e.describe() + " as " + stored.id() + " earlier (the file is unchanged)");
            return stored;
        }
        if (!importMissing) {
            throw new InvalidInputException("Imported checkpoint " + e.describe() + " is not in " + ctx.warehouse().checkpoints()
                    + " (or its file changed since); run the transfer command (or pipeline) with this config first");
        }
        ctx.describe(STAGE, "importing " + e.describe());
        CheckpointRecord record = read(architecture, null, files, e.file(), e.label(), family, ctx.config().name);
        toStore.add(record);
        return record;
    }
}
