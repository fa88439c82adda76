"""The PyTorch reference models of PyTorchReferenceTest: torchvision's ResNets, and MobileNetV1 in
the layout of Intel Distiller's models/mobilenet.py (the study's MobileNet; torchvision has none).
Shared by make_checkpoints.py and check_export.py. Debian's python3-torch and python3-torchvision."""
import torch
import torch.nn as nn
import torchvision


class DistillerMobileNet(nn.Module):
    """MobileNet v1 (width 1.0) as Distiller defines it: model.0 = stem conv/BN/ReLU, model.1..13 =
    depthwise conv (.0), BN (.1), ReLU, pointwise conv (.3), BN (.4), ReLU; model.14 = AvgPool2d(7);
    then fc."""

    def __init__(self, num_classes=1000):
        super().__init__()

        def conv_bn(inp, oup, stride):
            return nn.Sequential(nn.Conv2d(inp, oup, 3, stride, 1, bias=False), nn.BatchNorm2d(oup), nn.ReLU(inplace=True))

        def conv_dw(inp, oup, stride):
            return nn.Sequential(
                nn.Conv2d(inp, inp, 3, stride, 1, groups=inp, bias=False), nn.BatchNorm2d(inp), nn.ReLU(inplace=True),
                nn.Conv2d(inp, oup, 1, 1, 0, bias=False), nn.BatchNorm2d(oup), nn.ReLU(inplace=True))

        blocks = [(32, 64, 1), (64, 128, 2), (128, 128, 1), (128, 256, 2), (256, 256, 1), (256, 512, 2),
                  (512, 512, 1), (512, 512, 1), (512, 512, 1), (512, 512, 1), (512, 512, 1), (512, 1024, 2), (1024, 1024, 1)]
        self.model = nn.Sequential(conv_bn(3, 32, 2), *[conv_dw(i, o, s) for i, o, s in blocks], nn.AvgPool2d(7))
        self.fc = nn.Linear(1024, num_classes)

    def forward(self, x):
        x = self.model(x)
        x = x.view(-1, 1024)
        return self.fc(x)


def build(arch, num_classes=1000):
    if arch == "mobilenet_v1":
        return DistillerMobileNet(num_classes)
    return getattr(torchvision.models, arch)(num_classes=num_classes)


def prunable(state_dict):
    """The tensors an import masks: weights of two or more dimensions outside the head (fc)."""
    return [k for k, v in state_dict.items() if v.dim() >= 2 and not k.startswith("fc.")]
