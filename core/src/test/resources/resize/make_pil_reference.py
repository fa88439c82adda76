"""Writes pil_reference.json, the reference values of ResamplingTest, with Pillow (Debian python3-pil).

The source image is the formula below (ResamplingTest computes the same one); each case resizes a
box of it (left, top, right, bottom; fractional boxes too) to an output size with Pillow's
bilinear or bicubic filter, which antialias when they shrink. Values are planar (R, then G, then B).
Run: /usr/bin/python3 make_pil_reference.py
"""
import json

import PIL
from PIL import Image

W, H = 37, 29


def value(c, y, x):
    return (x * 7 + y * 13 + c * 50 + (x * y) % 17 * 5) % 256


image = Image.new("RGB", (W, H))
image.putdata([tuple(value(c, y, x) for c in range(3)) for y in range(H) for x in range(W)])

CASES = [
    ("bilinear", (0, 0, W, H), (16, 12)),
    ("bilinear", (0, 0, W, H), (9, 7)),
    ("bilinear", (0, 0, W, H), (50, 40)),
    ("bilinear", (3.5, 2.25, 30.75, 27.5), (20, 20)),
    ("bicubic", (0, 0, W, H), (16, 12)),
    ("bicubic", (0, 0, W, H), (50, 40)),
    ("bicubic", (3.5, 2.25, 30.75, 27.5), (11, 11)),
    ("bilinear", (0, 0, W, H), (W, 20)),  # a vertical pass only
    ("bicubic", (0, 0, W, H), (20, H)),  # a horizontal pass only
]
FILTERS = {"bilinear": Image.BILINEAR, "bicubic": Image.BICUBIC}

cases = []
for name, box, size in CASES:
    out = image.resize(size, FILTERS[name], box=box)
    planes = [out.getpixel((x, y))[c] for c in range(3) for y in range(size[1]) for x in range(size[0])]
    cases.append({"filter": name, "box": box, "width": size[0], "height": size[1], "values": planes})
with open("pil_reference.json", "w") as f:
    json.dump({"pillow": PIL.__version__, "width": W, "height": H, "cases": cases}, f)
print("wrote", len(cases), "cases with Pillow", PIL.__version__)
