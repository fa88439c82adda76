#!/usr/bin/env python3
"""Reference for bench's train_step_ratio_vs_pytorch: training steps per second of eager PyTorch.

The same model, batch, optimizer, thread count and per-step work as the project's training loop:
a batch gathered by index from inputs already in memory, forward, cross-entropy, backward,
SGD with momentum 0.9 and weight decay 5e-4, the pruning mask re-applied after every step, and
the step's loss and correct count read back (the loop logs both). Prints steps_per_s=VALUE.
Needs Debian's python3-torch (bench/setup-pytorch.sh installs it).
"""
import argparse
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def small_cnn(classes):
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, classes))


class BasicBlock(nn.Module):
    """torchvision's ResNet-18 block: two 3x3 convs, a 1x1-conv shortcut where the shape changes."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + (x if self.down is None else self.down(x)))


def resnet18(classes):
    layers = [nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(3, 2, 1)]
    cin = 64
    for stage, width in enumerate([64, 128, 256, 512]):
        for block in range(2):
            layers.append(BasicBlock(cin, width, 2 if block == 0 and stage > 0 else 1))
            cin = width
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(512, classes)]
    return nn.Sequential(*layers)


def global_magnitude_masks(model, sparsity):
    """Masks pruning `sparsity` of the weights of every conv and linear layer but the first and the last."""
    weights = [p for name, p in model.named_parameters() if name.endswith("weight") and p.dim() >= 2][1:-1]
    scores = torch.cat([w.detach().abs().flatten() for w in weights])
    k = int(round(sparsity * scores.numel()))
    threshold = torch.kthvalue(scores, k).values
    return [(w, (w.detach().abs() > threshold).float()) for w in weights]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", choices=["small_cnn", "resnet18"], required=True)
    parser.add_argument("--batch", type=int, required=True)
    parser.add_argument("--steps", type=int, required=True)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--examples", type=int, default=2048)
    parser.add_argument("--sparsity", type=float, default=0.9)
    args = parser.parse_args()

    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    shape = (1, 28, 28) if args.model == "small_cnn" else (3, 32, 32)
    model = small_cnn(10) if args.model == "small_cnn" else resnet18(10)
    x = torch.randn(args.examples, *shape)
    y = torch.randint(0, 10, (args.examples,))
    masks = global_magnitude_masks(model, args.sparsity)
    with torch.no_grad():
        for w, m in masks:
            w.mul_(m)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    model.train()

    def step():
        index = torch.randint(0, args.examples, (args.batch,))
        xb, yb = x[index], y[index]
        logits = model(xb)
        loss = F.cross_entropy(logits, yb)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        with torch.no_grad():
            for w, m in masks:
                w.mul_(m)
        return loss.item(), (logits.argmax(1) == yb).sum().item()

    for _ in range(args.warmup):
        step()
    start = time.perf_counter()
    for _ in range(args.steps):
        step()
    seconds = time.perf_counter() - start
    print(f"steps_per_s={args.steps / seconds:.4f}")
    print(f"torch={torch.__version__} threads={torch.get_num_threads()}")


if __name__ == "__main__":
    main()
