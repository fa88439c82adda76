"""Checks checkpoints sparse-transfer exported against the originals, with PyTorch as the reference.
Run: python3 check_export.py ARCH ORIGINAL.pth EXPORTED.pth|.safetensors
Loads the export with torch.load(weights_only=True) (or reads safetensors with a few lines of its own:
8-byte header length, JSON header, raw data; Debian has no safetensors package), loads it into the
reference model with load_state_dict(strict=True), and compares every tensor with the original
exactly (num_batches_tracked aside). Prints one JSON line: {"keys": N, "mismatched": [...], "strict_load": true}."""
import json
import struct
import sys

import torch

from reference_models import build

arch, original_path, exported_path = sys.argv[1:4]

DTYPES = {"F32": torch.float32, "F64": torch.float64, "F16": torch.float16, "BF16": torch.bfloat16,
          "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8, "BOOL": torch.bool}


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        begin, end = entry["data_offsets"]
        t = torch.frombuffer(bytearray(data[begin:end]), dtype=DTYPES[entry["dtype"]]) if end > begin \
            else torch.zeros(0, dtype=DTYPES[entry["dtype"]])
        out[name] = t.reshape(entry["shape"])
    return out


original = torch.load(original_path, map_location="cpu", weights_only=True)
if exported_path.endswith(".safetensors"):
    exported = read_safetensors(exported_path)
else:
    exported = torch.load(exported_path, map_location="cpu", weights_only=True)
num_classes = exported["fc.weight"].shape[0] if "fc.weight" in exported else 1000
model = build(arch, num_classes)
model.load_state_dict(exported, strict=True)
mismatched = [k for k, v in original.items()
              if not k.endswith("num_batches_tracked") and (k not in exported or not torch.equal(v, exported[k]))]
print(json.dumps({"keys": len(exported), "mismatched": mismatched, "strict_load": True}))
