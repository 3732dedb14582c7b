"""Turning an uploaded selfie into a clean RGB array, defensively (SPEC §6.2).

The format is sniffed from the first bytes (JPEG, PNG or WebP), never taken from
a file name or a content type. The pixel count is read from the header, before
any pixel is decoded, so a small file that would expand to gigabytes is refused
first. Decoding applies the EXIF orientation, then keeps only pixels: every piece
of metadata (EXIF with GPS, ICC, XMP, text chunks) is gone from the result.
Modes other than 8-bit RGB (CMYK, 16-bit, palette, alpha) are converted.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import contextmanager
from typing import Final

import numpy as np
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from imajin.errors import InvalidInput, PayloadTooLarge
from imajin.vision.base import RGBImage

FIELD: Final = "selfie"
ACCEPTED = "JPEG, PNG or WebP"


class SelfieInvalid(InvalidInput):
    """The selfie is empty, of a refused format, too many pixels, truncated or corrupt."""

    code = "invalid_selfie"

    def __init__(self, message: str) -> None:
        super().__init__(message, field=FIELD)


# Magic bytes of the formats we read, and of common ones we name when refusing.
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\xff\xd8\xff", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
)
_OTHERS: tuple[tuple[bytes, str], ...] = (
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"BM", "BMP"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"%PDF", "PDF"),
)
# One decode at a time per worker thread pool; a stuck decode does not hold the job.
_DECODER = ThreadPoolExecutor(max_workers=2, thread_name_prefix="selfie-decode")


def sniff_format(data: bytes) -> str:
    """``JPEG``, ``PNG`` or ``WEBP`` from the content's first bytes.

    Raises:
        SelfieInvalid: The upload is empty or is not one of the accepted formats.
    """
    if not data:
        raise SelfieInvalid(f"`{FIELD}` is empty; send a {ACCEPTED} image.")
    for magic, name in _SIGNATURES:
        if data.startswith(magic):
            return name
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    for magic, name in _OTHERS:
        if data.startswith(magic):
            raise SelfieInvalid(f"`{FIELD}` is a {name} image; only {ACCEPTED} are accepted.")
    raise SelfieInvalid(
        f"`{FIELD}` is not an image imajin reads (by its content, whatever its name or "
        f"type says); send a {ACCEPTED} image."
    )


def check_size(data: bytes, *, max_bytes: int, max_pixels: int) -> tuple[str, int, int]:
    """The format, width and height of ``data``, from its header only.

    Raises:
        PayloadTooLarge: Over ``max_bytes`` (413).
        SelfieInvalid: Empty, not an accepted format, an unreadable header, or more than
            ``max_pixels`` pixels.
    """
    if len(data) > max_bytes:
        raise PayloadTooLarge(
            f"`{FIELD}` is {len(data)} bytes; at most {max_bytes} are accepted "
            "(gateway.profile.max_bytes)."
        )
    kind = sniff_format(data)
    with _opened(data, kind) as image:
        width, height = image.size
    if width * height > max_pixels:
        raise SelfieInvalid(
            f"`{FIELD}` is {width}×{height} pixels ({width * height}); at most {max_pixels} "
            "are accepted (gateway.profile.max_pixels)."
        )
    return kind, width, height


def decode_selfie(data: bytes, *, max_bytes: int, max_pixels: int, timeout_s: float) -> RGBImage:
    """The upright 8-bit RGB pixels of ``data``, with no metadata, decoded within ``timeout_s``.

    Raises:
        PayloadTooLarge, SelfieInvalid: As :func:`check_size`; also a truncated or corrupt
            file, or a decode slower than ``timeout_s``.
    """
    kind, _width, _height = check_size(data, max_bytes=max_bytes, max_pixels=max_pixels)
    future = _DECODER.submit(_decode, data, kind, max_pixels)
    try:
        return future.result(timeout=timeout_s)
    except FutureTimeout:
        # The thread cannot be stopped, but the pixel limit bounds what it still does.
        raise SelfieInvalid(
            f"`{FIELD}` took longer than {timeout_s:g} s to decode "
            "(gateway.profile.decode_timeout_s)."
        ) from None


@contextmanager
def _opened(data: bytes, kind: str) -> Iterator[Image.Image]:
    """``Image.open`` restricted to the sniffed format (headers only: Pillow reads pixels
    lazily), its errors turned into SelfieInvalid."""
    try:
        with warnings.catch_warnings():
            # Our own limit (checked by the callers) is the one that matters.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=[kind])
    except Image.DecompressionBombError:
        raise SelfieInvalid(
            f"`{FIELD}` declares far more pixels than any accepted image "
            "(gateway.profile.max_pixels)."
        ) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise SelfieInvalid(
            f"`{FIELD}` looks like {kind} but its header cannot be read; send an intact "
            f"{ACCEPTED} image."
        ) from None
    with image:
        yield image


def _decode(data: bytes, kind: str, max_pixels: int) -> RGBImage:
    with _opened(data, kind) as image:
        width, height = image.size
        if width * height > max_pixels:  # checked again: the caller's check may be skipped
            raise SelfieInvalid(f"`{FIELD}` has too many pixels.")
        if getattr(image, "n_frames", 1) > 1:
            image.seek(0)  # an animated WebP: its first frame
        try:
            # A truncated file must fail, not decode to grey (Pillow's default already).
            if ImageFile.LOAD_TRUNCATED_IMAGES:  # pragma: no cover - a global someone set
                raise SelfieInvalid("image decoding is misconfigured")
            image.load()
            upright = ImageOps.exif_transpose(image)
            pixels = _to_rgb8(upright if upright is not None else image)
        except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
            raise SelfieInvalid(
                f"`{FIELD}` is truncated or corrupt; send an intact {ACCEPTED} image."
            ) from None
    return pixels


def _to_rgb8(image: Image.Image) -> RGBImage:
    """8-bit RGB pixels: 16-bit scaled (not clipped), alpha and palettes over white."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        wide = np.asarray(image, dtype=np.int64)
        grey = (np.clip(wide, 0, 65535) >> 8).astype(np.uint8)
        return np.ascontiguousarray(np.stack([grey] * 3, axis=-1))
    if image.mode == "F":
        grey = np.clip(np.asarray(image, dtype=np.float64), 0, 255).astype(np.uint8)
        return np.ascontiguousarray(np.stack([grey] * 3, axis=-1))
    if image.mode == "P" or "A" in image.mode:
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, rgba)
    # convert() returns a new image that carries no EXIF, ICC or text: only pixels go on.
    rgb = np.asarray(image.convert("RGB"), dtype=np.uint8)
    return np.ascontiguousarray(rgb)
