"""Writes cmyk-adobe.jpg, the CMYK JPEG fixture of ImageDecodeTest, with Pillow (Debian python3-pil).

Pillow stores CMYK JPEGs as Adobe applications do (an APP14 "Adobe" marker, inverted samples), the
form of ImageNet's CMYK files. Left half: no ink (paper white); right half: full cyan.
Run: /usr/bin/python3 make_cmyk_jpeg.py
"""
from PIL import Image

image = Image.new("CMYK", (16, 8), (0, 0, 0, 0))
for y in range(8):
    for x in range(8, 16):
        image.putpixel((x, y), (255, 0, 0, 0))
image.save("cmyk-adobe.jpg", quality=95)
print(Image.open("cmyk-adobe.jpg").mode, Image.open("cmyk-adobe.jpg").convert("RGB").getpixel((2, 4)),
      Image.open("cmyk-adobe.jpg").convert("RGB").getpixel((13, 4)))
