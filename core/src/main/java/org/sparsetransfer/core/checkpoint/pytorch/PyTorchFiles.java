package org.sparsetransfer.core.checkpoint.pytorch;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import org.sparsetransfer.core.InvalidInputException;
import org.sparsetransfer.core.IoErrors;

/**
 * PyTorch checkpoint files, read and written without Python: {@code torch.save}'s zip format
 * ({@code .pth}, {@code .pt}, {@code .bin}, ...) and safetensors. Reading never runs code from the
 * file: a pickle may construct only what a state dict is made of ({@link RestrictedUnpickler}).
 */
public final class PyTorchFiles {
    /** The formats, told apart by their first bytes, not by the file's name. */
    public enum Format {
        TORCH_ZIP,
        SAFETENSORS
    }

    private PyTorchFiles() {}

    /**
     * The object stored in {@code file}: for {@code torch.save}, what was saved (maps, lists,
     * tuples as {@code Object[]}, strings, numbers, {@link TorchTensor}s); for safetensors, a map
     * of its tensors. {@code source} names the file in errors.
     */
    public static Object read(Path file, String source) {
        return switch (format(file, source)) {
            case TORCH_ZIP -> TorchArchive.read(file, source);
            case SAFETENSORS -> Safetensors.read(file, source);
        };
    }

    /** The file's format, or one clear error saying what it is instead. */
    public static Format format(Path file, String source) {
        byte[] head;
        long length;
        try (InputStream in = Files.newInputStream(file)) {
            head = in.readNBytes(16);
            length = Files.size(file);
        } catch (IOException e) {
            throw new InvalidInputException("Cannot read " + source + ": " + IoErrors.describe(e), e);
        }
        if (head.length >= 4 && head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4) {
            return Format.TORCH_ZIP;
        }
        if (Safetensors.looksLike(head, length)) {
            return Format.SAFETENSORS;
        }
        if (head.length >= 2 && (head[0] & 0xff) == 0x80 && head[1] >= 2) {
            // A bare pickle: torch.save's legacy format starts with the pickled magic number.
            throw new InvalidInputException(source + " was saved in PyTorch's legacy format (before 1.6, or with "
                    + "_use_new_zipfile_serialization=False), which is read only by running its pickle; load it in PyTorch "
                    + "and save it again: torch.save(torch.load(f, map_location='cpu', weights_only=True), 'new.pth')");
        }
        if (head.length >= 2 && head[0] == 'P' && head[1] == 'K') {
            return Format.TORCH_ZIP; // a zip whose first entry is not a local file header: the archive reader says what is wrong
        }
        throw new InvalidInputException(source + " is neither a torch.save archive (a zip) nor a safetensors file ("
                + (length == 0 ? "it is empty" : length + " bytes starting " + hex(head)) + ")");
    }

    /**
     * Writes a state dict, as safetensors when {@code file}'s name ends in {@code .safetensors},
     * else as {@code torch.save} would.
     */
    public static void writeStateDict(Map<String, TorchTensor> stateDict, Path file) throws IOException {
        try (OutputStream out = Files.newOutputStream(file)) {
            if (isSafetensorsName(file.getFileName().toString())) {
                Safetensors.write(stateDict, out);
            } else {
                TorchSaveWriter.write(stateDict, out);
            }
        }
    }

    /** Whether a file of this name is written as safetensors (else as a torch.save archive). */
    public static boolean isSafetensorsName(String name) {
        return name.toLowerCase(Locale.ROOT).endsWith(".safetensors");
    }

    private static String hex(byte[] head) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < Math.min(8, head.length); i++) {
            sb.append(String.format("%02x", head[i] & 0xff));
        }
        return sb.toString();
    }
}
