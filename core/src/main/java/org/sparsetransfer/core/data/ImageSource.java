package org.sparsetransfer.core.data;

/**
 * Labelled images of one size, read one image at a time: an {@link ImageSet} on the heap, or
 * {@link SpilledImages} in a local file for a split larger than a task's data buffer. Training
 * and evaluation read through this, so their memory for images is a batch, not the split.
 * Images are channel-planar unsigned bytes (C, H, W), as in {@link ImageSet}.
 */
public interface ImageSource {
    String name();

    int channels();

    int height();

    int width();

    int numClasses();

    /** Every example's label, in order (the caller must not change it). */
    int[] labels();

    default int size() {
        return labels().length;
    }

    default int imageBytes() {
        return channels() * height() * width();
    }

    /** Copies image {@code index}'s {@link #imageBytes} bytes into {@code into} at {@code offset}; safe from several threads. */
    void read(int index, byte[] into, int offset);

    /** The same images under other labels (e.g. classes renumbered within a COLT segment). */
    ImageSource relabelled(String newName, int newNumClasses, int[] newLabels);

    /**
     * The examples at {@code indices}, in that order, as a source of their own (a hold-out's
     * parts): a view that reads through this one.
     */
    default ImageSource subset(String newName, int[] indices) {
        int[] all = labels();
        int[] chosen = new int[indices.length];
        for (int i = 0; i < indices.length; i++) {
            chosen[i] = all[indices[i]];
        }
        return new IndexedImages(this, newName, indices, chosen, numClasses());
    }

    /** Number of examples per class. */
    default int[] classCounts() {
        int[] counts = new int[numClasses()];
        for (int label : labels()) {
            counts[label]++;
        }
        return counts;
    }

    /** Checks labels against the class count, naming the first out of range. */
    static void checkLabels(String name, int[] labels, int numClasses) {
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0 || labels[i] >= numClasses) {
                throw new org.sparsetransfer.core.InvalidInputException(name + ": label " + labels[i] + " of example " + i
                        + " is out of range; expected 0.." + (numClasses - 1));
            }
        }
    }
}
