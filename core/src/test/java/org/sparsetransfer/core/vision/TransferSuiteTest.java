package org.sparsetransfer.core.vision;

import org.sparsetransfer.core.io.FileSource;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sparsetransfer.core.InvalidInputException;
import org.sparsetransfer.core.task.Metric;

class TransferSuiteTest {
    @TempDir
    Path root;

    @Test
    void theTwelveTasksWithTheirClassesAndMetrics() {
        Map<String, TransferSuite.Task> tasks = TransferSuite.tasks();
        assertEquals(List.of("aircraft", "birdsnap", "caltech101", "caltech256", "cars", "cifar10", "cifar100", "dtd", "flowers",
                "food101", "pets", "sun397"), List.copyOf(tasks.keySet()));
        assertEquals(List.of("aircraft", "caltech101", "flowers", "pets"), tasks.values().stream()
                .filter(t -> t.metric() == Metric.MEAN_PER_CLASS).map(TransferSuite.Task::name).toList());
        assertEquals(List.of(100, 500, 102, 257, 196, 10, 100, 47, 102, 101, 37, 397),
                tasks.values().stream().map(TransferSuite.Task::classes).toList());
        assertEquals(30, tasks.get("caltech101").trainPerClass());
        assertEquals(60, tasks.get("caltech256").trainPerClass());
        assertThrows(InvalidInputException.class, () -> TransferSuite.get("imagenet21k", "transfer.tasks"));
    }

    @Test
    void caltech101TakesASeededThirtyPerClassForTraining() throws Exception {
        for (int c = 0; c < 102; c++) {
            Path dir = Files.createDirectories(root.resolve("caltech101").resolve(String.format("class%03d", c)));
            for (int i = 0; i < 31 + c % 5; i++) {
                Files.createFile(dir.resolve("image_" + i + ".jpg"));
            }
        }
        TransferSuite.Task task = TransferSuite.get("caltech101", "test");
        TransferSuite.Split split = TransferSuite.split(FileSource.local(), task, root.toString(), 1);
        assertEquals(102 * 30, split.train().size());
        Map<Integer, Long> perClass = split.train().stream().collect(Collectors.groupingBy(ImageFolder.Example::label, Collectors.counting()));
        assertTrue(perClass.values().stream().allMatch(n -> n == 30));
        assertEquals(java.util.stream.IntStream.range(0, 102).map(c -> 1 + c % 5).sum(), split.test().size(), "the rest is test");
        assertEquals(split.train(), TransferSuite.split(FileSource.local(), task, root.toString(), 1).train(), "same seed, same split");
        assertNotEquals(split.train(), TransferSuite.split(FileSource.local(), task, root.toString(), 2).train());
    }

    @Test
    void aTreeThatDoesNotMatchTheTaskIsNamed() throws Exception {
        Files.createDirectories(root.resolve("pets/train/abyssinian"));
        Files.createFile(root.resolve("pets/train/abyssinian/a.jpg"));
        String wrong = assertThrows(InvalidInputException.class, () -> TransferSuite.split(FileSource.local(), TransferSuite.get("pets", "t"), root.toString(), 0)).getMessage();
        assertTrue(wrong.contains("has 1 class directories, expected 37"), wrong);
        Files.createDirectories(root.resolve("cifar10"));
        String cifar = assertThrows(InvalidInputException.class, () -> TransferSuite.split(FileSource.local(), TransferSuite.get("cifar10", "t"), root.toString(), 0)).getMessage();
        assertTrue(cifar.contains("data_batch_1.bin is missing"), cifar);
    }
}
