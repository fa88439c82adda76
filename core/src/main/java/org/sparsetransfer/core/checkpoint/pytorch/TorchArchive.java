package org.sparsetransfer.core.checkpoint.pytorch;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;
import net.razorvine.pickle.PickleException;
import org.sparsetransfer.core.InvalidInputException;
import org.sparsetransfer.core.IoErrors;

/**
 * Reads a {@code torch.save} file in the zip format PyTorch writes since 1.6: under one top
 * folder (its name varies: {@code archive}, or the file's name), {@code data.pkl} is the pickled
 * object (protocol 2; tensors are persistent ids {@code ('storage', type, key, location, numel)}
 * rebuilt by {@code torch._utils._rebuild_tensor_v2}) and {@code data/<key>} holds each storage's
 * raw little-endian bytes. The pickle is read by {@link RestrictedUnpickler}: only what a state
 * dict is made of is constructed.
 */
final class TorchArchive {
    private TorchArchive() {}

    /** The object {@code torch.save} stored in {@code file}: maps, lists, tuples (Object[]), scalars and {@link TorchTensor}s. */
    static Object read(Path file, String source) {
        try (ZipFile zip = new ZipFile(file.toFile())) {
            String prefix = prefix(zip, source);
            Map<String, byte[]> loaded = new HashMap<>();
            RestrictedUnpickler unpickler = new RestrictedUnpickler(source, pid -> loaded.computeIfAbsent((String) pid[0],
                    key -> storage(zip, prefix, key, (Long) pid[1], (TorchDtype) pid[2], source)));
            ZipEntry pickle = zip.getEntry(prefix + "data.pkl");
            try (InputStream in = zip.getInputStream(pickle)) {
                return unpickler.load(in);
            } catch (PickleException | ClassCastException | IllegalStateException | IndexOutOfBoundsException e) {
                throw new InvalidInputException(source + ": its data.pkl is not a pickled state dict (" + e.getMessage() + ")", e);
            }
        } catch (ZipException e) {
            throw new InvalidInputException(source + " is a damaged or truncated zip archive (" + e.getMessage()
                    + "); download or save it again", e);
        } catch (IOException e) {
            throw new InvalidInputException("Cannot read " + source + ": " + IoErrors.describe(e), e);
        }
    }

    /** The folder that holds data.pkl; a TorchScript archive (code/, constants.pkl) is refused. */
    private static String prefix(ZipFile zip, String source) {
        List<String> pickles = new ArrayList<>();
        boolean script = false;
        for (ZipEntry e : Collections.list(zip.entries())) {
            String name = e.getName();
            if (name.endsWith("/data.pkl") && name.indexOf('/') == name.length() - "/data.pkl".length()) {
                pickles.add(name);
            }
            script |= name.endsWith("/constants.pkl") || name.contains("/code/");
        }
        if (script) {
            throw new InvalidInputException(source + " is a TorchScript archive (torch.jit.save); save the model's weights instead: "
                    + "torch.save(model.state_dict(), f)");
        }
        if (pickles.size() != 1) {
            throw new InvalidInputException(source + " is a zip archive but not one torch.save wrote (" + (pickles.isEmpty()
                    ? "no <folder>/data.pkl" : pickles.size() + " data.pkl entries") + ")");
        }
        return pickles.get(0).substring(0, pickles.get(0).length() - "data.pkl".length());
    }

    private static byte[] storage(ZipFile zip, String prefix, String key, long numel, TorchDtype dtype, String source) {
        ZipEntry entry = zip.getEntry(prefix + "data/" + key);
        if (entry == null) {
            throw new InvalidInputException(source + ": storage " + key + " (" + numel + " " + dtype + " elements) has no entry "
                    + prefix + "data/" + key + " in the archive; the file is damaged");
        }
        long expected = numel * dtype.bytes();
        if (expected > Integer.MAX_VALUE - 8) {
            throw new InvalidInputException(source + ": storage " + key + " of " + expected + " bytes is larger than one Java array holds");
        }
        try (InputStream in = zip.getInputStream(entry)) {
            byte[] bytes = in.readNBytes((int) expected);
            if (bytes.length != expected || in.read() != -1) {
                throw new InvalidInputException(source + ": storage " + key + " should hold " + expected + " bytes (" + numel + " "
                        + dtype + " elements) but its entry holds " + (bytes.length < expected ? bytes.length : "more")
                        + "; the file is damaged");
            }
            return bytes;
        } catch (ZipException e) {
            throw new InvalidInputException(source + ": storage " + key + " cannot be read (" + e.getMessage()
                    + "); the file is damaged or truncated", e);
        } catch (IOException e) {
            throw new InvalidInputException("Cannot read " + source + ": " + IoErrors.describe(e), e);
        }
    }
}
