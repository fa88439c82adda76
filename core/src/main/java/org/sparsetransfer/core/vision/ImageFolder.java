package org.sparsetransfer.core.vision;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import org.sparsetransfer.core.InvalidInputException;

/**
 * torchvision's ImageFolder layout: {@code root/<class>/<image>.{jpg,jpeg,png}}; classes are the
 * sub-directories in sorted order (their index is the label), files sorted within a class, so the
 * same tree always yields the same examples in the same order. Images are listed, not decoded:
 * ingestion stores their bytes and executors decode them.
 */
public record ImageFolder(Path root, List<String> classes, List<Example> examples) {
    /** One image file and its label. */
    public record Example(Path file, int label) {}

    private static final List<String> EXTENSIONS = List.of(".jpg", ".jpeg", ".png");

    public static ImageFolder scan(Path root) {
        if (!Files.isDirectory(root)) {
            throw new InvalidInputException("Image folder not found: " + root + "; expected root/<class>/<image>.jpg|png");
        }
        try (Stream<Path> dirs = Files.list(root)) {
            List<Path> classDirs = dirs.filter(Files::isDirectory).sorted().toList();
            if (classDirs.isEmpty()) {
                throw new InvalidInputException("Image folder " + root + " has no class directories; expected root/<class>/<image>.jpg|png");
            }
            List<String> classes = new ArrayList<>();
            List<Example> examples = new ArrayList<>();
            for (Path dir : classDirs) {
                int label = classes.size();
                classes.add(dir.getFileName().toString());
                try (Stream<Path> files = Files.list(dir)) {
                    List<Path> images = files.filter(ImageFolder::isImage).sorted().toList();
                    if (images.isEmpty()) {
                        throw new InvalidInputException("Class directory " + dir + " holds no .jpg, .jpeg or .png images");
                    }
                    images.forEach(f -> examples.add(new Example(f, label)));
                }
            }
            return new ImageFolder(root, List.copyOf(classes), List.copyOf(examples));
        } catch (IOException e) {
            throw new InvalidInputException("Cannot list image folder " + root + ": " + e.getMessage(), e);
        }
    }

    private static boolean isImage(Path file) {
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        return Files.isRegularFile(file) && EXTENSIONS.stream().anyMatch(name::endsWith);
    }
}
