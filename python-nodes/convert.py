"""ComfyUI IMAGE tensors <-> tightly packed 8-bit RGB, vectorised (spec §3.4, weakness 26).

An IMAGE is a float tensor B x H x W x C in 0..1 (ComfyUI's contract; a 3-D tensor is one
H x W x C image, never guessed to be C x H x W). Values are clipped to 0..1 and rounded, not
truncated. torch is used when it is what came in (it is there inside ComfyUI), numpy otherwise;
neither is imported at the pack's import time.
"""

import numpy as np


class ImageError(ValueError):
    """An input that is not an image ComfyUI's IMAGE contract allows."""


def _to_numpy_uint8(images):
    if hasattr(images, "detach"):  # a torch tensor: convert where it lives, copy 8-bit data only
        import torch

        images = images.detach()
        if images.is_floating_point():  # x * 255 + 0.5, clipped, truncated: rounded
            images = images.mul(255.0).add_(0.5).clamp_(0.0, 255.0)
        return images.to(dtype=torch.uint8).cpu().numpy()
    array = np.asarray(images)
    if array.dtype == np.uint8:
        return array
    if array.dtype.kind not in "fiu":
        raise ImageError(f"an IMAGE holds numbers, not {array.dtype}")
    scaled = np.multiply(array, 255.0, dtype=np.float32)
    scaled += 0.5
    np.clip(scaled, 0.0, 255.0, out=scaled)
    return scaled.astype(np.uint8)


def checked(images):
    """The IMAGE as B x H x W x C (a 3-D one is one image), or ImageError."""
    if images is None or not hasattr(images, "shape"):
        raise ImageError("no image given")
    ndim = len(images.shape)
    if ndim == 3:
        images = images[None]
    elif ndim != 4:
        raise ImageError(f"an IMAGE is B x H x W x C, got shape {tuple(images.shape)}")
    batch, height, width, channels = images.shape
    if batch == 0 or height == 0 or width == 0:
        raise ImageError(f"empty image batch {tuple(images.shape)}")
    if channels not in (1, 3, 4):
        raise ImageError(f"an IMAGE has 1, 3 or 4 channels, got {channels}")
    return images


def _convert(images):
    channels = images.shape[3]
    if channels == 4:
        images = images[..., :3]
    frames = _to_numpy_uint8(images)
    if channels == 1:
        frames = np.repeat(frames, 3, axis=3)
    return np.ascontiguousarray(frames)


def as_batch(images):
    """B x H x W x 3 uint8 (C-contiguous) from an IMAGE (B x H x W x C or H x W x C, C in 1..4)."""
    return _convert(checked(images))


def iter_frames(images):
    """The images of an IMAGE one by one as H x W x 3 uint8, converted as they are needed (a
    long batch is never held twice in memory)."""
    images = checked(images)
    for index in range(images.shape[0]):
        yield _convert(images[index : index + 1])[0]


def _torch():
    try:
        import torch
    except ImportError:
        return None
    return torch


def rgb_to_image(frames):
    """float32 B x H x W x 3 in 0..1 (a torch tensor when torch is there) from uint8 frames."""
    array = np.asarray(frames, dtype=np.uint8)
    if array.ndim == 3:
        array = array[None]
    torch = _torch()
    if torch is not None:
        return torch.from_numpy(array.astype(np.float32)).div_(255.0)
    return array.astype(np.float32) / np.float32(255.0)


def rgb_from_bytes(data, width, height):
    """An H x W x 3 uint8 view of tightly packed RGB bytes."""
    if len(data) != width * height * 3:
        raise ImageError(f"{width}x{height} RGB needs {width * height * 3} bytes, got {len(data)}")
    return np.frombuffer(data, dtype=np.uint8).reshape(height, width, 3)


def blank_image(width, height, batch=1):
    return rgb_to_image(np.zeros((batch, height, width, 3), dtype=np.uint8))


def png_bytes(frame):
    """PNG of one H x W x 3 uint8 frame (the compatible /frames form; Pillow ships with ComfyUI)."""
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.fromarray(frame, "RGB").save(out, format="PNG", compress_level=1)
    return out.getvalue()


def png_to_rgb(data):
    import io

    from PIL import Image

    with Image.open(io.BytesIO(data)) as img:
        return np.asarray(img.convert("RGB"))
