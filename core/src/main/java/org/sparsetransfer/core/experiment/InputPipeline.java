package org.sparsetransfer.core.experiment;

import ai.djl.ndarray.NDManager;
import java.io.Serializable;
import org.sparsetransfer.core.config.ExperimentConfig;
import org.sparsetransfer.core.data.ImageSource;
import org.sparsetransfer.core.train.TrainingData;
import org.sparsetransfer.core.vision.Augmentation;
import org.sparsetransfer.core.vision.AugmentedImages;
import org.sparsetransfer.core.vision.Resampling;

/**
 * How a config's images become network inputs: the demo's grayscale sets are uploaded once and
 * scaled to [-1, 1]; image datasets (RGB) are augmented per batch as in the paper, with the
 * training crop and evaluation centre crop of {@code data.images.image_size}, each batch's
 * images decoded (when stored encoded) and transformed on {@code data.images.loader_threads}.
 */
public record InputPipeline(boolean augmented, int crop, Resampling.Filter filter, int loaderThreads) implements Serializable {

    public static InputPipeline of(ExperimentConfig config) {
        return config.data.source == org.sparsetransfer.core.config.DataSource.IMAGES ? new InputPipeline(true, config.data.images.imageSize,
                Resampling.Filter.parse(config.data.images.interpolation, "data.images.interpolation"), config.data.images.loaderThreads)
                : new InputPipeline(false, 0, Resampling.Filter.BILINEAR, 1);
    }

    /** {@code images} as training and evaluation data on {@code manager}. */
    public TrainingData open(NDManager manager, ImageSource images) {
        if (!augmented) {
            return TrainingData.upload(manager, images);
        }
        return new AugmentedImages(manager, images, crop, filter, Augmentation.Normalization.IMAGENET, loaderThreads);
    }
}
