package org.sparsetransfer.core.checkpoint.pytorch;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import org.sparsetransfer.core.InvalidInputException;
import org.sparsetransfer.core.IoErrors;

/**
 * The safetensors format (Hugging Face): an 8-byte little-endian header length, a JSON header
 * mapping each tensor's name to its dtype, shape and byte range, then the raw little-endian data.
 * Written here with Jackson for the header: no maintained Java library reads it without native
 * memory (DJL's decoder loads every tensor into libtorch), and the format is these few lines.
 */
public final class Safetensors {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** The format's own limit on the header (100 MB), which also guards against reading a garbage length. */
    private static final long MAX_HEADER = 100_000_000L;

    private Safetensors() {}

    /** Whether {@code head} (the file's first bytes) looks like safetensors: a plausible header length, then '{'. */
    static boolean looksLike(byte[] head, long fileLength) {
        if (head.length < 9) {
            return false;
        }
        long n = ByteBuffer.wrap(head, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        return n > 1 && n <= MAX_HEADER && n + 8 <= fileLength && head[8] == '{';
    }

    /** The tensors of {@code file} by name, in header order ({@code __metadata__} is left out). */
    public static LinkedHashMap<String, TorchTensor> read(Path file, String source) {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long length = channel.size();
            ByteBuffer lengthBytes = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(channel, lengthBytes, 0, source);
            long headerLength = lengthBytes.getLong(0);
            if (headerLength < 2 || headerLength > MAX_HEADER || headerLength + 8 > length) {
                throw new InvalidInputException(source + " is not a safetensors file: header length " + headerLength + " in a file of "
                        + length + " bytes");
            }
            ByteBuffer headerBytes = ByteBuffer.allocate((int) headerLength);
            readFully(channel, headerBytes, 8, source);
            JsonNode header;
            try {
                header = JSON.readTree(new String(headerBytes.array(), StandardCharsets.UTF_8));
            } catch (JsonProcessingException e) {
                throw new InvalidInputException(source + ": its safetensors header is not JSON (" + e.getOriginalMessage() + ")", e);
            }
            if (!header.isObject()) {
                throw new InvalidInputException(source + ": its safetensors header is not a JSON object");
            }
            long dataStart = 8 + headerLength;
            LinkedHashMap<String, TorchTensor> tensors = new LinkedHashMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                if (e.getKey().equals("__metadata__")) {
                    continue;
                }
                tensors.put(e.getKey(), tensor(channel, e.getKey(), e.getValue(), dataStart, length, source));
            }
            return tensors;
        } catch (IOException e) {
            throw new InvalidInputException("Cannot read " + source + ": " + IoErrors.describe(e), e);
        }
    }

    private static TorchTensor tensor(FileChannel channel, String name, JsonNode entry, long dataStart, long fileLength, String source)
            throws IOException {
        String what = source + ": tensor " + name;
        TorchDtype dtype = TorchDtype.bySafetensorsName(entry.path("dtype").asText(""))
                .orElseThrow(() -> new InvalidInputException(what + " has dtype '" + entry.path("dtype").asText("") + "'; expected one of "
                        + java.util.Arrays.stream(TorchDtype.values()).map(TorchDtype::safetensorsName).toList()));
        JsonNode shapeNode = entry.path("shape");
        JsonNode offsets = entry.path("data_offsets");
        if (!shapeNode.isArray() || !offsets.isArray() || offsets.size() != 2) {
            throw new InvalidInputException(what + " lacks a shape or its two data_offsets");
        }
        long[] shape = new long[shapeNode.size()];
        for (int i = 0; i < shape.length; i++) {
            shape[i] = shapeNode.get(i).asLong(-1);
            if (shape[i] < 0) {
                throw new InvalidInputException(what + " has a negative or non-integer dimension");
            }
        }
        long begin = offsets.get(0).asLong(-1);
        long end = offsets.get(1).asLong(-1);
        long bytes = TorchTensor.numel(shape) * dtype.bytes();
        if (begin < 0 || end - begin != bytes) {
            throw new InvalidInputException(what + " has data_offsets [" + begin + ", " + end + "] but its shape and dtype need "
                    + bytes + " bytes");
        }
        if (dataStart + end > fileLength) {
            throw new InvalidInputException(what + " ends at byte " + (dataStart + end) + " of a file of " + fileLength
                    + " bytes; the file is truncated");
        }
        if (bytes > Integer.MAX_VALUE - 8) {
            throw new InvalidInputException(what + " of " + bytes + " bytes is larger than one Java array holds");
        }
        ByteBuffer data = ByteBuffer.allocate((int) bytes);
        readFully(channel, data, dataStart + begin, source);
        return new TorchTensor(dtype, shape, data.array());
    }

    private static void readFully(FileChannel channel, ByteBuffer into, long position, String source) throws IOException {
        long at = position;
        while (into.hasRemaining()) {
            int n = channel.read(into, at);
            if (n < 0) {
                throw new InvalidInputException(source + " ends early; the file is truncated");
            }
            at += n;
        }
    }

    /** Writes {@code tensors} in header order, the data packed in that order. */
    public static void write(Map<String, TorchTensor> tensors, OutputStream out) throws IOException {
        ObjectNode header = JSON.createObjectNode();
        long offset = 0;
        for (Map.Entry<String, TorchTensor> e : tensors.entrySet()) {
            TorchTensor t = e.getValue();
            ObjectNode entry = header.putObject(e.getKey());
            entry.put("dtype", t.dtype().safetensorsName());
            var shape = entry.putArray("shape");
            for (long d : t.shape()) {
                shape.add(d);
            }
            var range = entry.putArray("data_offsets");
            range.add(offset);
            offset += t.data().length;
            range.add(offset);
        }
        byte[] json = JSON.writeValueAsBytes(header);
        // The data starts 8-byte aligned, as the reference writer pads the header with spaces.
        int padded = (json.length + 7) / 8 * 8;
        byte[] headerBytes = new byte[padded];
        java.util.Arrays.fill(headerBytes, (byte) ' ');
        System.arraycopy(json, 0, headerBytes, 0, json.length);
        out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded).array());
        out.write(headerBytes);
        for (TorchTensor t : tensors.values()) {
            out.write(t.data());
        }
    }
}
