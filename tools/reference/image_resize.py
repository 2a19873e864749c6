#!/usr/bin/python3
"""Reference pixels for tests/unit/image_preprocessor_test.cc: what PIL
(Debian's python3-pil 9.4) makes of a fixed test image, as transformers'
image processors call it: Image.resize((w, h), resample) on an 8-bit RGB
image, with every filter (NEAREST 0, LANCZOS 1, BILINEAR 2, BICUBIC 3,
BOX 4, HAMMING 5), shrinking, enlarging, and along one axis only.

The test image is computed, not stored: pixel (x, y) of a W×H image is
(7x + 3y) % 256, (5x * y) % 256, (x² + 11y) % 256 (red, green, blue); the
test draws the same. Run:
  /usr/bin/python3 tools/reference/image_resize.py > tests/fixtures/image_resize.json
"""
import json

from PIL import Image

W, H = 40, 30


def test_image():
    img = Image.new("RGB", (W, H))
    img.putdata([((7 * x + 3 * y) % 256, (5 * x * y) % 256, (x * x + 11 * y) % 256)
                 for y in range(H) for x in range(W)])
    return img


cases = []
for resample in (0, 1, 2, 3, 4, 5):
    for (w, h) in ((16, 12), (24, 48), (40, 7)):
        out = test_image().resize((w, h), resample=resample)
        pixels = [list(out.getpixel((x, y))) for y in range(h) for x in range(w)]
        cases.append({"resample": resample, "width": w, "height": h, "pixels": pixels})
print(json.dumps({"width": W, "height": H, "cases": cases}, separators=(",", ":")))
