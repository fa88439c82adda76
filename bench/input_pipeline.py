#!/usr/bin/env python3
"""Reference for bench's input_ratio_vs_torchvision: training images per second of torchvision's input pipeline.

Reads an ImageFolder tree of JPEG files (the benchmark writes it) with torchvision's ImageFolder,
decodes them with PIL, applies RandomResizedCrop(SIZE) + RandomHorizontalFlip + ToTensor +
Normalize(ImageNet) and batches them in a DataLoader with WORKERS worker processes, as an
ImageNet training script does; the images are read from memory-cached files (one untimed pass
first), so the figure is decoding and transforming, not the disk. Prints images_per_s=VALUE.
Needs Debian's python3-torch and python3-torchvision (bench/setup-pytorch.sh installs them).
"""
import argparse
import time

import torch
import torchvision
from torchvision import transforms


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", required=True)
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--passes", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(1)
    transform = transforms.Compose([
        transforms.RandomResizedCrop(args.size),
        transforms.RandomHorizontalFlip(),
        transforms.ToTensor(),
        transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
    ])
    data = torchvision.datasets.ImageFolder(args.root, transform=transform)
    loader = torch.utils.data.DataLoader(data, batch_size=args.batch, shuffle=True, num_workers=args.workers,
                                         persistent_workers=args.workers > 0, drop_last=True)
    for _ in loader:  # warm-up: worker start, page cache
        pass
    images = 0
    start = time.perf_counter()
    for _ in range(args.passes):
        for inputs, _labels in loader:
            images += inputs.shape[0]
    seconds = time.perf_counter() - start
    print(f"images_per_s={images / seconds:.2f} torch={torch.__version__} torchvision={torchvision.__version__}")


if __name__ == "__main__":
    main()
