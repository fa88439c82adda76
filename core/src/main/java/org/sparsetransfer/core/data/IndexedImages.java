package org.sparsetransfer.core.data;

/** Some examples of another source, in a given order, under their labels or new ones: a view ({@link ImageSource#subset}). */
final class IndexedImages implements ImageSource {
    private final ImageSource source;
    private final String name;
    private final int[] indices;
    private final int[] labels;
    private final int numClasses;

    IndexedImages(ImageSource source, String name, int[] indices, int[] labels, int numClasses) {
        if (indices.length != labels.length) {
            throw new IllegalArgumentException(indices.length + " examples with " + labels.length + " labels");
        }
        ImageSource.checkLabels(name, labels, numClasses);
        this.source = source;
        this.name = name;
        this.indices = indices;
        this.labels = labels;
        this.numClasses = numClasses;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public int channels() {
        return source.channels();
    }

    @Override
    public int height() {
        return source.height();
    }

    @Override
    public int width() {
        return source.width();
    }

    @Override
    public int numClasses() {
        return numClasses;
    }

    @Override
    public int[] labels() {
        return labels;
    }

    @Override
    public void read(int index, byte[] into, int offset) {
        source.read(indices[index], into, offset);
    }

    @Override
    public ImageSource relabelled(String newName, int newNumClasses, int[] newLabels) {
        return new IndexedImages(source, newName, indices, newLabels, newNumClasses);
    }
}
