package org.sparsetransfer.core.vision;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.sparsetransfer.core.InvalidInputException;
import org.sparsetransfer.core.IoErrors;
import org.sparsetransfer.core.io.FileSource;

/**
 * torchvision's ImageFolder layout: {@code root/<class>/<image>.{jpg,jpeg,png}}; classes are the
 * sub-directories in sorted order (their index is the label), files sorted within a class, so the
 * same tree always yields the same examples in the same order. Images are listed, not decoded:
 * ingestion stores their bytes and executors decode them. Listing costs one call per directory.
 */
public record ImageFolder(String root, List<String> classes, List<Example> examples) {
    /** One image file and its label. */
    public record Example(String file, int label) {}

    private static final List<String> EXTENSIONS = List.of(".jpg", ".jpeg", ".png");

    public static ImageFolder scan(FileSource files, String root) {
        try {
            if (!files.isDirectory(root)) {
                throw new InvalidInputException("Image folder not found: " + root + "; expected root/<class>/<image>.jpg|png");
            }
            List<FileSource.Entry> classDirs = files.list(root).stream().filter(FileSource.Entry::directory).toList();
            if (classDirs.isEmpty()) {
                throw new InvalidInputException("Image folder " + root + " has no class directories; expected root/<class>/<image>.jpg|png");
            }
            List<String> classes = new ArrayList<>();
            List<Example> examples = new ArrayList<>();
            for (FileSource.Entry dir : classDirs) {
                int label = classes.size();
                classes.add(dir.name());
                String classDir = FileSource.resolve(root, dir.name());
                List<FileSource.Entry> images = files.list(classDir).stream().filter(ImageFolder::isImage).toList();
                if (images.isEmpty()) {
                    throw new InvalidInputException("Class directory " + classDir + " holds no .jpg, .jpeg or .png images");
                }
                images.forEach(f -> examples.add(new Example(FileSource.resolve(classDir, f.name()), label)));
            }
            return new ImageFolder(root, List.copyOf(classes), List.copyOf(examples));
        } catch (IOException e) {
            throw new InvalidInputException("Cannot list image folder " + root + ": " + IoErrors.describe(e), e);
        }
    }

    private static boolean isImage(FileSource.Entry entry) {
        String name = entry.name().toLowerCase(Locale.ROOT);
        return !entry.directory() && EXTENSIONS.stream().anyMatch(name::endsWith);
    }
}
