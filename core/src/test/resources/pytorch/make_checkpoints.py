"""Writes the checkpoints PyTorchReferenceTest imports, in every layout published checkpoints use,
with the logits PyTorch computes for them in evaluation mode. Run: python3 make_checkpoints.py OUT_DIR

For each model (resnet18, resnet50, mobilenet_v1): seeded weights, BatchNorm statistics far from
their defaults, and random masks on most prunable tensors (some left dense), then
  plain.pth         the masked state_dict (torchvision keys / Distiller's)
  wrapped.pth       {'state_dict': <with 'module.' prefixes>, 'epoch': 7, 'arch': ...}
  study.pth         {'model_config': {...}, 'model_state_dict': ...}: mask-wrapped layers (X._layer.weight,
                    X._layer.bias, X._weight_mask, X._bias_mask) with 'module.' prefixes, weights left unmasked
  prune.pth         torch.nn.utils.prune's X.weight_orig + X.weight_mask
  input.f32         the input batch (float32, little-endian), logits.f32 PyTorch's logits on it
plus manifest.json: shapes, zeros per model (PyTorch's count over the prunable tensors), layouts.
And dtypes.pth (tensors of every dtype, non-contiguous views, views sharing a storage) with
dtypes_expected.json, legacy.pth (the pre-1.6 format), evil.pth (a pickle calling os.system).
"""
import json
import os
import sys
import zipfile

import torch
import torch.nn.utils.prune as prune

from reference_models import build, prunable

OUT = sys.argv[1]
os.makedirs(OUT, exist_ok=True)
manifest = {"torch": torch.__version__, "models": {}}


def randomize(model, seed):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.copy_(torch.randn(p.shape, generator=g) * (0.5 / max(1, p[0].numel()) ** 0.5 if p.dim() > 1 else 0.2))
            if name.endswith("bn1.weight") or ".1.weight" in name or ".4.weight" in name:
                p.add_(1.0)  # BatchNorm scales around 1
        for name, b in model.named_buffers():
            if name.endswith("running_mean"):
                b.copy_(torch.randn(b.shape, generator=g) * 0.1)
            elif name.endswith("running_var"):
                b.copy_(torch.rand(b.shape, generator=g) * 0.5 + 0.75)
            elif name.endswith("num_batches_tracked"):
                b.fill_(1234)


def masks_for(model, seed):
    g = torch.Generator().manual_seed(seed + 1)
    masks = {}
    sd = model.state_dict()
    for i, key in enumerate(prunable(sd)):
        if i % 5 == 4:
            continue  # some tensors stay dense
        density = [0.1, 0.25, 0.5, 0.05][i % 4]
        masks[key] = (torch.rand(sd[key].shape, generator=g) < density).float()
    return masks


def write_f32(path, tensor):
    with open(path, "wb") as f:
        f.write(tensor.detach().contiguous().float().numpy().astype("<f4").tobytes())


for arch, seed in [("resnet18", 18), ("resnet50", 50), ("mobilenet_v1", 1)]:
    d = os.path.join(OUT, arch)
    os.makedirs(d, exist_ok=True)
    torch.manual_seed(seed)
    model = build(arch)
    randomize(model, seed)
    masks = masks_for(model, seed)
    dense_sd = {k: v.clone() for k, v in model.state_dict().items()}
    with torch.no_grad():
        for key, m in masks.items():
            dict(model.named_parameters())[key].mul_(m)
    model.eval()
    x = torch.randn(2, 3, 224, 224, generator=torch.Generator().manual_seed(seed + 2))
    with torch.no_grad():
        logits = model(x)
    write_f32(os.path.join(d, "input.f32"), x)
    write_f32(os.path.join(d, "logits.f32"), logits)
    sd = model.state_dict()
    torch.save(sd, os.path.join(d, "plain.pth"))

    torch.save({"state_dict": {"module." + k: v for k, v in sd.items()}, "epoch": 7, "arch": arch, "best_acc1": 71.5},
               os.path.join(d, "wrapped.pth"))

    study = {}
    for k, v in dense_sd.items():
        layer, _, leaf = k.rpartition(".")
        if layer + ".weight" in masks:
            study["module." + layer + "._layer." + leaf] = v  # stored unmasked: the wrapper multiplies at forward
        else:
            study["module." + k] = v
    for key, m in masks.items():
        layer = key.rpartition(".")[0]
        study["module." + layer + "._weight_mask"] = m
    torch.save({"model_config": {"arch": arch, "dataset": "imagenet"}, "model_state_dict": study}, os.path.join(d, "study.pth"))

    pruned = build(arch)
    pruned.load_state_dict(dense_sd)
    modules = dict(pruned.named_modules())
    for key, m in masks.items():
        prune.custom_from_mask(modules[key.rpartition(".")[0]], "weight", m)
    torch.save(pruned.state_dict(), os.path.join(d, "prune.pth"))

    zeros = sum(int((sd[k] == 0).sum()) for k in prunable(sd))
    total = sum(sd[k].numel() for k in prunable(sd))
    manifest["models"][arch] = {"layouts": ["plain", "wrapped", "study", "prune"], "zeros": zeros, "prunable": total,
                                "input": list(x.shape), "logits": list(logits.shape)}

# Every dtype, views with offsets and strides, and views that share one storage.
g = torch.Generator().manual_seed(7)
base = torch.randn(6, 8, generator=g)
shared = torch.arange(24, dtype=torch.float32)
tensors = {
    "f32": torch.randn(3, 4, generator=g),
    "f16": torch.randn(5, generator=g).half(),
    "bf16": torch.randn(5, generator=g).bfloat16(),
    "f64": torch.randn(2, 3, generator=g).double(),
    "i64": torch.tensor([-3, 0, 2**40]),
    "i32": torch.tensor([-7, 9], dtype=torch.int32),
    "i16": torch.tensor([-300, 300], dtype=torch.int16),
    "i8": torch.tensor([-5, 5], dtype=torch.int8),
    "u8": torch.tensor([0, 1, 255], dtype=torch.uint8),
    "bool": torch.tensor([True, False, True]),
    "scalar": torch.tensor(2.5),
    "transposed": base.t(),
    "sliced": base[2:5, 1:7:2],
    "shared_a": shared[4:10],
    "shared_b": shared.view(4, 6)[:, 1],
    "empty": torch.zeros(0, 3),
}
torch.save(tensors, os.path.join(OUT, "dtypes.pth"))
expected = {k: {"shape": list(v.shape), "values": [float(x) for x in v.double().flatten().tolist()]} for k, v in tensors.items()}
with open(os.path.join(OUT, "dtypes_expected.json"), "w") as f:
    json.dump(expected, f)

torch.save({"w": torch.ones(2)}, os.path.join(OUT, "legacy.pth"), _use_new_zipfile_serialization=False)


class Evil:
    def __reduce__(self):
        return (os.system, ("touch " + os.path.join(OUT, "evil-ran"),))


torch.save({"w": torch.ones(2), "payload": Evil()}, os.path.join(OUT, "evil.pth"))

# A storage entry removed from an otherwise valid archive.
with zipfile.ZipFile(os.path.join(OUT, "resnet18", "plain.pth")) as src, \
        zipfile.ZipFile(os.path.join(OUT, "missing_storage.pth"), "w", zipfile.ZIP_STORED) as dst:
    names = [n for n in src.namelist() if not n.endswith("/data/3")]
    for n in names:
        dst.writestr(n, src.read(n))

with open(os.path.join(OUT, "manifest.json"), "w") as f:
    json.dump(manifest, f, indent=1)
print("wrote", OUT)
