#!/usr/bin/env python3
"""Peak resident memory of CPU training steps, for deploy/README.md's "Sizing executors".

Three steps (forward, cross-entropy, backward, SGD with momentum 0.9 and weight decay 5e-4) of a
torchvision model on random inputs, in this process alone, then one line with the peak resident
memory before the first step and after the last. Run one process per case; the difference
between two batch sizes over their difference is the activation memory per example:

    /usr/bin/python3 bench/step_memory.py resnet50 224 8
    /usr/bin/python3 bench/step_memory.py resnet50 224 16

Needs Debian's python3-torch and python3-torchvision (bench/setup-pytorch.sh installs both).
"""
import argparse
import resource

import torch
import torchvision


def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", help="a torchvision model name, e.g. resnet50")
    parser.add_argument("side", type=int, help="input side in pixels")
    parser.add_argument("batch", type=int)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model = getattr(torchvision.models, args.model)(num_classes=1000 if args.side >= 224 else 10)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    before = peak_mb()
    inputs = torch.randn(args.batch, 3, args.side, args.side)
    labels = torch.randint(0, 10, (args.batch,))
    for _ in range(3):
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(inputs), labels).backward()
        optimizer.step()
    params = sum(p.numel() for p in model.parameters())
    print(f"model={args.model} side={args.side} batch={args.batch} params={params} "
          f"before_steps_mb={before:.0f} peak_mb={peak_mb():.0f}")


if __name__ == "__main__":
    main()
