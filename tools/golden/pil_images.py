#!/usr/bin/python3
"""Golden data for haq's image decoding and preprocessing (tests/data/image_io_test.cc).

Writes tests/data/pil/: image files in several modes made with Pillow, and what
torchvision's PIL path makes of them, as raw arrays (see save()):
  - NAME.rgb.u8 / NAME.l.u8: Image.open(f).convert("RGB") / .convert("L"),
    torchvision's ImageFolder loader (pil_loader) and a grey model's equivalent;
  - NAME.evalN.u8: transforms.Resize(N * 8 // 7) then CenterCrop(N) on the RGB
    image (N = 224 for the 300x410 one, 56 for the others), as torchvision 0.14
    does it on PIL images: img.resize((new_w, new_h), Image.BILINEAR) with
    new_short = round(N / 0.875) and new_long = int(new_short * long / short),
    crop at int(round((h - N) / 2.0)); an image of N x N is left as it is (where
    torchvision would resample it);
  - grey16.u16: a 16-bit grey PNG's raw samples (PIL would clip them to 255).
  - resize_*.u8: Resize(size) alone on random arrays, down- and upscaling.
Run with Debian's Python and python3-pil (9.4.0 on Debian 12):
    /usr/bin/python3 tools/golden/pil_images.py tests/data/pil
Seeded: the same files on every run.
"""
import os
import sys

import numpy as np
from PIL import Image

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(20261206)


def chw(img):
    a = np.asarray(img)
    if a.ndim == 2:
        a = a[:, :, None]
    return np.ascontiguousarray(a.transpose(2, 0, 1))


def save(path, a):
    """A raw array: the text line "C H W" then the samples (uint8, or uint16
    little-endian), C x H x W in C order."""
    assert a.dtype in (np.uint8, np.uint16) and a.ndim == 3
    with open(path, "wb") as f:
        f.write(("%d %d %d\n" % a.shape).encode())
        f.write(a.astype(a.dtype.newbyteorder("<")).tobytes())


def resize(img, size):
    w, h = img.size
    short, long = (w, h) if w <= h else (h, w)
    if short == size:
        return img
    new_short, new_long = size, int(size * long / short)
    new_w, new_h = (new_short, new_long) if w <= h else (new_long, new_short)
    return img.resize((new_w, new_h), Image.BILINEAR)


def center_crop(img, th, tw):
    w, h = img.size
    top = int(round((h - th) / 2.0))
    left = int(round((w - tw) / 2.0))
    return img.crop((left, top, left + tw, top + th))


def smooth(h, w, c):
    """A photo-like image: smooth gradients and blobs plus some noise."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    chans = []
    for k in range(c):
        f = 128 + 60 * np.sin(x / (7 + 5 * k) + k) * np.cos(y / (11 + 3 * k))
        f += 40 * np.exp(-((x - w * 0.3) ** 2 + (y - h * 0.6) ** 2) / (2 * (0.15 * w) ** 2))
        f += rng.normal(0, 12, size=(h, w))
        chans.append(np.clip(np.rint(f), 0, 255))
    return np.stack(chans, axis=-1).astype(np.uint8)


files = {}
files["rgb_photo.png"] = Image.fromarray(smooth(300, 410, 3), "RGB")
files["grey_tall.png"] = Image.fromarray(smooth(133, 100, 1)[:, :, 0], "L")
rgba = np.concatenate([smooth(110, 96, 3), rng.integers(0, 256, (110, 96, 1), dtype=np.uint8)], axis=-1)
files["rgba.png"] = Image.fromarray(rgba, "RGBA")
files["palette.png"] = Image.fromarray(smooth(96, 120, 3), "RGB").quantize(colors=64, method=Image.Quantize.MEDIANCUT)
la = np.concatenate([smooth(90, 90, 1), rng.integers(0, 256, (90, 90, 1), dtype=np.uint8)], axis=-1)
files["grey_alpha.png"] = Image.fromarray(la, "LA")
files["photo.jpg"] = Image.fromarray(smooth(120, 150, 3), "RGB")
files["grey.jpg"] = Image.fromarray(smooth(100, 104, 1)[:, :, 0], "L")
sixteen = (smooth(40, 50, 1)[:, :, 0].astype(np.uint16) * 257 + rng.integers(0, 257, (40, 50))).astype(np.uint16)
files["grey16.png"] = Image.fromarray(sixteen, "I;16")
files["small_rgb.bmp"] = Image.fromarray(smooth(28, 28, 3), "RGB")
files["exact56.png"] = Image.fromarray(smooth(56, 56, 3), "RGB")

for name, img in files.items():
    path = os.path.join(out, name)
    if name.endswith(".jpg"):
        img.save(path, quality=90)
    else:
        img.save(path)
    back = Image.open(path)
    stem = os.path.splitext(name)[0]
    rgb = back.convert("RGB")
    if back.mode.startswith("I"):
        # PIL clips 16-bit samples to 255 when converting to 8 bits; haq scales
        # (round(v / 257)), so the golden is the raw samples.
        save(os.path.join(out, stem + ".u16"), chw(back).astype(np.uint16))
        continue
    save(os.path.join(out, stem + ".rgb.u8"), chw(rgb))
    save(os.path.join(out, stem + ".l.u8"), chw(back.convert("L")))
    # The evaluation transform at 224 (Resize(256)) for the large image, at 56
    # (Resize(64)) for the others large enough.
    crop = 224 if min(rgb.size) >= 256 else 56
    if rgb.size == (crop, crop):
        # haq uses an image already at the model's size as it is, where torchvision
        # would enlarge it to crop * 8 // 7 and crop it again.
        save(os.path.join(out, stem + f".eval{crop}.u8"), chw(rgb))
    elif min(rgb.size) >= 64:
        save(os.path.join(out, stem + f".eval{crop}.u8"), chw(center_crop(resize(rgb, crop * 8 // 7), crop, crop)))

# Resize alone: shrink by non-integer factors, shrink a lot, enlarge.
cases = [("resize_down", (3, 97, 131), 64), ("resize_far", (1, 200, 150), 23), ("resize_up", (3, 20, 33), 45)]
for stem, (c, h, w), size in cases:
    a = rng.integers(0, 256, (h, w, c), dtype=np.uint8)
    img = Image.fromarray(a[:, :, 0] if c == 1 else a, "L" if c == 1 else "RGB")
    save(os.path.join(out, stem + ".in.u8"), chw(img))
    save(os.path.join(out, stem + f".out{size}.u8"), chw(resize(img, size)))
print(f"wrote {len(os.listdir(out))} files to {out}")
