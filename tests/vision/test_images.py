"""Selfie decoding against hostile and unusual files (SPEC §6.2, issue 13 "Bad input").

Real photographs (scikit-image's astronaut, public domain) and real OpenCV detection:
a conversion that mangles pixels shows up as a face no longer found, or found elsewhere.
"""

from __future__ import annotations

import io
import struct
import time
import zlib
from pathlib import Path

import numpy as np
import pytest
import skimage
from PIL import Image
from skimage import data

from imajin.errors import InvalidInput, PayloadTooLarge
from imajin.vision import FaceDetector, build_detector
from imajin.vision.images import check_size, decode_selfie, sniff_format
from tests.profile.conftest import astronaut_jpeg, encode

LIMITS = {"max_bytes": 10 * 1024 * 1024, "max_pixels": 40_000_000, "timeout_s": 20.0}


def _chunk(kind: bytes, body: bytes) -> bytes:
    crc = zlib.crc32(kind + body) & 0xFFFFFFFF
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)


def constant_png(side: int) -> bytes:
    """A ``side``×``side`` 8-bit grey PNG of one colour, written without holding its pixels."""
    row = bytes(side + 1)  # filter byte 0, then black pixels
    deflate = zlib.compressobj(9)
    body = b"".join(deflate.compress(row * 100) for _ in range(side // 100)) + deflate.flush()
    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", body)
        + _chunk(b"IEND", b"")
    )


@pytest.fixture(scope="module")
def bomb() -> bytes:
    return constant_png(30_000)


@pytest.fixture(scope="module")
def detector() -> FaceDetector:
    return build_detector("opencv-haar")


def _face_box(detector: FaceDetector, pixels: np.ndarray) -> tuple[int, int, int, int]:
    faces = detector.detect(pixels)
    assert len(faces) == 1, faces
    return faces[0].x, faces[0].y, faces[0].width, faces[0].height


def _close(a: tuple[int, ...], b: tuple[int, ...], tolerance: int = 12) -> bool:
    return all(abs(x - y) <= tolerance for x, y in zip(a, b, strict=True))


def test_text_renamed_jpg_is_refused_by_content() -> None:
    with pytest.raises(InvalidInput, match="not an image") as refused:
        decode_selfie(b"name,age\nAlex,31\n" * 20, **LIMITS)
    assert refused.value.field == "selfie"


def test_empty_file() -> None:
    with pytest.raises(InvalidInput, match="empty"):
        decode_selfie(b"", **LIMITS)


def test_truncated_jpeg() -> None:
    whole = astronaut_jpeg()
    with pytest.raises(InvalidInput, match="truncated or corrupt"):
        decode_selfie(whole[: len(whole) // 2], **LIMITS)


def test_gif_is_named_and_refused() -> None:
    # A real GIF shipped in scikit-image's data folder.
    gif = (Path(skimage.__file__).parent / "data" / "no_time_for_that_tiny.gif").read_bytes()
    assert gif.startswith(b"GIF8")
    with pytest.raises(InvalidInput, match="GIF image; only JPEG, PNG or WebP"):
        decode_selfie(gif, **LIMITS)


def test_decompression_bomb_is_refused_from_its_header(bomb: bytes) -> None:
    assert len(bomb) < 1_100_000  # ~1 MB on the wire, 900 megapixels decoded
    started = time.perf_counter()
    with pytest.raises(InvalidInput, match=r"pixels.*gateway\.profile\.max_pixels"):
        decode_selfie(bomb, **LIMITS)
    assert time.perf_counter() - started < 5  # refused before any decoding


def test_pixel_limit_is_read_from_the_header_before_decoding() -> None:
    # A header declaring 3000×3000 followed by garbage: refused for its size, so no
    # pixel was decoded (decoding would have failed as corrupt).
    header = struct.pack(">IIBBBBB", 3000, 3000, 8, 2, 0, 0, 0)
    fake = b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", b"garbage")
    with pytest.raises(InvalidInput, match=r"3000×3000 pixels \(9000000\); at most 1000000"):
        check_size(fake, max_bytes=1 << 20, max_pixels=1_000_000)
    with pytest.raises(InvalidInput, match="truncated or corrupt"):
        decode_selfie(fake, max_bytes=1 << 20, max_pixels=10_000_000, timeout_s=10)


def test_byte_limit() -> None:
    selfie = astronaut_jpeg()
    with pytest.raises(PayloadTooLarge, match=r"gateway\.profile\.max_bytes"):
        check_size(selfie, max_bytes=len(selfie) - 1, max_pixels=10**7)
    assert check_size(selfie, max_bytes=len(selfie), max_pixels=10**7) == ("JPEG", 512, 512)


def test_cmyk_jpeg_becomes_rgb_and_the_face_is_found(detector: FaceDetector) -> None:
    upright = _face_box(detector, data.astronaut())
    cmyk = encode(Image.fromarray(data.astronaut()).convert("CMYK"), "JPEG", quality=95)
    pixels = decode_selfie(cmyk, **LIMITS)
    assert pixels.shape == (512, 512, 3) and pixels.dtype == np.uint8
    assert np.abs(pixels.astype(int) - data.astronaut().astype(int)).mean() < 12
    assert _close(_face_box(detector, pixels), upright)


def test_sixteen_bit_png_is_scaled_not_clipped(detector: FaceDetector) -> None:
    grey = np.asarray(Image.fromarray(data.astronaut()).convert("L"))
    wide = Image.fromarray(grey.astype(np.uint16) * 257)  # full 16-bit range
    blob = encode(wide, "PNG")
    with Image.open(io.BytesIO(blob)) as check:
        assert check.mode.startswith("I")  # really stored as 16-bit
    pixels = decode_selfie(blob, **LIMITS)
    assert np.abs(pixels[..., 0].astype(int) - grey.astype(int)).max() <= 1
    _face_box(detector, pixels)


def test_palette_and_alpha_become_rgb_over_white() -> None:
    rgba = np.zeros((64, 64, 4), dtype=np.uint8)
    rgba[..., 0] = 200
    rgba[:, 32:, 3] = 255  # left half transparent
    pixels = decode_selfie(encode(Image.fromarray(rgba, "RGBA"), "PNG"), **LIMITS)
    assert pixels.shape == (64, 64, 3)
    assert (pixels[:, :32] == 255).all() and (pixels[:, 32:] == (200, 0, 0)).all()
    palette = Image.fromarray(data.astronaut()).convert("P")
    assert decode_selfie(encode(palette, "PNG"), **LIMITS).shape == (512, 512, 3)


def test_exif_rotation_is_applied_so_the_box_is_in_the_upright_frame(
    detector: FaceDetector,
) -> None:
    upright = data.astronaut()[:, :448]  # not square: the rotated frame is visible in shape
    expected = _face_box(detector, upright)
    stored = Image.fromarray(upright).transpose(Image.Transpose.ROTATE_90)  # lying on its side
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise to display
    exif[0x010F] = "CameraMaker"  # Make: metadata that must not survive
    blob = encode(stored, "JPEG", quality=95, exif=exif.tobytes())
    pixels = decode_selfie(blob, **LIMITS)
    assert pixels.shape == upright.shape
    assert _close(_face_box(detector, pixels), expected)


def test_webp_is_read() -> None:
    pixels = decode_selfie(encode(data.astronaut(), "WEBP", quality=90), **LIMITS)
    assert pixels.shape == (512, 512, 3)


def test_sniffing_ignores_names_and_reads_content() -> None:
    assert sniff_format(encode(data.astronaut(), "PNG")) == "PNG"
    assert sniff_format(astronaut_jpeg()) == "JPEG"
    with pytest.raises(InvalidInput, match="BMP"):
        sniff_format(encode(data.astronaut(), "BMP"))


def test_a_decode_past_its_time_limit_is_refused() -> None:
    # 3000×3000 pixels take tens of milliseconds to decode: far past a microsecond.
    wide = np.tile(np.arange(3000, dtype=np.uint8), (3000, 1))
    blob = encode(np.stack([wide] * 3, axis=-1), "PNG", compress_level=1)
    with pytest.raises(InvalidInput, match=r"longer than .*\(gateway\.profile\.decode_timeout_s\)"):
        decode_selfie(blob, max_bytes=len(blob), max_pixels=10**7, timeout_s=1e-6)
    assert decode_selfie(blob, max_bytes=len(blob), max_pixels=10**7, timeout_s=30).shape == (
        3000,
        3000,
        3,
    )
