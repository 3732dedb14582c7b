"""Resize, crop and encode masters and derivatives with libvips (pyvips).

No pixel loop runs in Python: libvips crops, resizes (Lanczos-3, after a box
pre-shrink for large reductions) and encodes WebP, and releases the GIL while
it works, so images are encoded on several threads at once.

:func:`render_family` and :func:`render_derivatives` encode one family on a
pool of their own. :class:`DerivativePool` is one pool shared by every family
(and every job) of a process: a family's encodes join the queue behind the
previous family's, so the cores that finish early pick up the next family's
work instead of waiting for one family's largest encode. Both paths run the
same crop, resize and encode on the same pixels, so their bytes are equal.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image as PILImage

from imajin.config.imaging import ImagingSettings
from imajin.errors import InvalidInput
from imajin.imaging.crops import plan_crop
from imajin.imaging.errors import ImagingError
from imajin.imaging.sizes import FamilySpec, Size, family

try:
    import pyvips
except (ImportError, OSError) as exc:  # pyvips raises OSError when libvips cannot load
    raise ImportError(
        "imajin.imaging needs libvips through pyvips: pip install 'pyvips[binary]'"
    ) from exc

# A master as stored (a WebP/PNG/JPEG file or its bytes) or as pixels already in memory.
MasterSource = Path | bytes | Any
# A generated image: PIL, an HxW[xC] uint8 array, or a pyvips image.
GeneratedImage = PILImage.Image | np.ndarray[Any, Any] | Any


@dataclass(frozen=True, slots=True)
class RenderedImage:
    """One encoded WebP: a family's master (``name`` is the family) or a derivative."""

    name: str
    family: str
    is_master: bool
    size: Size
    data: bytes
    sha256: str

    @property
    def filename(self) -> str:
        """``<name>-<w>x<h>.webp``, the file name SPEC §3.3 gives it."""
        return f"{self.name}-{self.size}.webp"


@dataclass(frozen=True, slots=True)
class _Cut:
    """One image to cut from a master: the largest centred crop at ``size``'s ratio."""

    name: str
    is_master: bool
    size: Size
    quality: int


def encode_master(
    image: GeneratedImage, family_name: str, *, quality: int, effort: int = 4
) -> RenderedImage:
    """Crop (centred, at the master's ratio) and resize ``image`` to the family's master; WebP.

    Raises:
        NotFound: ``family_name`` is not a family.
        InvalidInput: ``image`` is not an 8-bit image, or quality/effort out of range.
        ImagingError: libvips failed.
    """
    spec = family(family_name)
    _check_encoding(quality=quality, effort=effort)
    data = _webp(_fit(_to_vips(image), spec.master), quality=quality, effort=effort)
    return RenderedImage(
        spec.name, spec.name, True, spec.master, data, hashlib.sha256(data).hexdigest()
    )


def render_derivatives(
    master: MasterSource, family_name: str, *, quality: int, effort: int = 4, threads: int = 1
) -> list[RenderedImage]:
    """Every derivative of family ``family_name``, cut from ``master`` and encoded as WebP.

    ``master`` is a file path, encoded bytes or a pyvips image of exactly the
    family's master size. It is decoded once; each derivative is the largest
    centred crop at its ratio (:func:`~imajin.imaging.crops.plan_crop`) resized
    to its exact size. Up to ``threads`` derivatives are encoded at once.

    Raises:
        NotFound: ``family_name`` is not a family.
        InvalidInput: the master has the wrong size, or quality/effort out of range.
        ImagingError: the master cannot be decoded, or libvips failed.
    """
    spec = family(family_name)
    _check_encoding(quality=quality, effort=effort)
    pixels = _checked_master(master, spec)
    cuts = [_Cut(d.name, False, d.size, quality) for d in spec.derivatives]
    return _render(pixels, spec, cuts, effort=effort, threads=threads)


def render_family(
    image: GeneratedImage, family_name: str, *, settings: ImagingSettings
) -> list[RenderedImage]:
    """A family's master (first) and all its derivatives, from one generated image.

    The image is fitted to the master size once (:func:`encode_master`'s
    crop and resize); derivatives are cut from those pixels before WebP
    encoding, so they carry one round of lossy compression, not two.

    Raises:
        NotFound: ``family_name`` is not a family.
        InvalidInput: ``image`` is not an 8-bit image.
        ImagingError: libvips failed.
    """
    spec = family(family_name)
    # copy_memory: the fitted pixels are computed once, then read by every cut.
    pixels = _fit(_to_vips(image), spec.master).copy_memory()
    cuts = [
        _Cut(spec.name, True, spec.master, settings.master_quality),
        *(_Cut(d.name, False, d.size, settings.webp_quality) for d in spec.derivatives),
    ]
    threads = resolve_threads(settings.threads)
    return _render(pixels, spec, cuts, effort=settings.webp_effort, threads=threads)


class DerivativePool:
    """One thread pool that crops, resizes and encodes the families of every caller.

    libvips releases the GIL inside each operation, so threads encode in parallel.
    A family is submitted as one task that fits (or decodes) its master; that task
    then queues one task per distinct encode, largest first, and the family's
    future resolves when the last of them ends. Nothing waits inside the pool, so
    any number of families may be in flight on a pool of any size.

    Args:
        threads: Images encoded at once; 0 means one per CPU core.
    """

    def __init__(self, *, threads: int = 0) -> None:
        self.threads = resolve_threads(threads)
        self._executor = ThreadPoolExecutor(self.threads, thread_name_prefix="imajin-imaging")

    def submit_family(
        self, image: GeneratedImage, family_name: str, *, settings: ImagingSettings
    ) -> Future[list[RenderedImage]]:
        """Queue :func:`render_family`'s work; the future gives the same images.

        Raises:
            NotFound: ``family_name`` is not a family (at once, not through the future).
        """
        spec = family(family_name)
        cuts = [
            _Cut(spec.name, True, spec.master, settings.master_quality),
            *(_Cut(d.name, False, d.size, settings.webp_quality) for d in spec.derivatives),
        ]
        # copy_memory: the fitted pixels are computed once, then read by every cut.
        prepare = lambda: _fit(_to_vips(image), spec.master).copy_memory()  # noqa: E731
        return self._submit(prepare, spec, cuts, effort=settings.webp_effort)

    def submit_derivatives(
        self, master: MasterSource, family_name: str, *, quality: int, effort: int = 4
    ) -> Future[list[RenderedImage]]:
        """Queue :func:`render_derivatives`'s work; the future gives the same images.

        Raises:
            NotFound: ``family_name`` is not a family (at once).
            InvalidInput: quality or effort out of range (at once); the master has the
                wrong size (through the future).
        """
        spec = family(family_name)
        _check_encoding(quality=quality, effort=effort)
        cuts = [_Cut(d.name, False, d.size, quality) for d in spec.derivatives]
        return self._submit(lambda: _checked_master(master, spec), spec, cuts, effort=effort)

    def close(self) -> None:
        """Finish what is queued, then stop the threads."""
        self._executor.shutdown(wait=True)

    def _submit(
        self, prepare: Callable[[], Any], spec: FamilySpec, cuts: list[_Cut], *, effort: int
    ) -> Future[list[RenderedImage]]:
        done: Future[list[RenderedImage]] = Future()
        done.set_running_or_notify_cancel()
        jobs = _encode_jobs(cuts)
        encoded: dict[tuple[Size, int], bytes] = {}
        lock = threading.Lock()

        def fail(exc: BaseException) -> None:
            with lock:
                if not done.done():
                    done.set_exception(exc)

        def encode(pixels: Any, job: tuple[Size, int]) -> None:
            if done.done():
                return  # a sibling failed: the family is lost, spare the cores
            try:
                data = _encode(pixels, spec, job, effort=effort)
            except BaseException as exc:
                fail(exc)
                return
            with lock:
                encoded[job] = data
                if len(encoded) == len(jobs) and not done.done():
                    done.set_result(_results(spec, cuts, encoded))

        def start() -> None:
            try:
                pixels = prepare()
                for job in jobs:
                    self._executor.submit(encode, pixels, job)
            except BaseException as exc:
                fail(exc)

        self._executor.submit(start)
        return done


def resolve_threads(threads: int) -> int:
    """``threads``, or the number of CPU cores when it is 0."""
    return threads if threads > 0 else os.cpu_count() or 1


def _render(
    pixels: Any, spec: FamilySpec, cuts: list[_Cut], *, effort: int, threads: int
) -> list[RenderedImage]:
    jobs = _encode_jobs(cuts)

    def encode(job: tuple[Size, int]) -> bytes:
        return _encode(pixels, spec, job, effort=effort)

    if threads <= 1:
        encoded = [encode(job) for job in jobs]
    else:
        # libvips releases the GIL inside every operation, so threads encode in parallel.
        with ThreadPoolExecutor(max_workers=min(threads, len(jobs))) as pool:
            encoded = list(pool.map(encode, jobs))
    return _results(spec, cuts, dict(zip(jobs, encoded, strict=True)))


def _encode_jobs(cuts: list[_Cut]) -> list[tuple[Size, int]]:
    # Cuts of one size and quality (tall and story, og and twitter-large) are the same
    # pixels encoded the same way, so each is encoded once. Largest first, so that no
    # big encode starts last while the other threads sit idle.
    return sorted({(cut.size, cut.quality) for cut in cuts}, key=lambda job: -job[0].area)


def _encode(pixels: Any, spec: FamilySpec, job: tuple[Size, int], *, effort: int) -> bytes:
    size, quality = job
    box = plan_crop(spec.master, size)
    region = pixels.crop(box.left, box.top, box.width, box.height)
    return _webp(_resize(region, size), quality=quality, effort=effort)


def _results(
    spec: FamilySpec, cuts: list[_Cut], encoded: dict[tuple[Size, int], bytes]
) -> list[RenderedImage]:
    by_job = {job: (data, hashlib.sha256(data).hexdigest()) for job, data in encoded.items()}
    return [
        RenderedImage(cut.name, spec.name, cut.is_master, cut.size, *by_job[cut.size, cut.quality])
        for cut in cuts
    ]


def _checked_master(master: MasterSource, spec: FamilySpec) -> Any:
    pixels = _decode(master)
    if (pixels.width, pixels.height) != (spec.master.width, spec.master.height):
        raise InvalidInput(
            f"The {spec.name} master must be {spec.master}; got {pixels.width}x{pixels.height}.",
            field="master",
        )
    return pixels


def _fit(pixels: Any, target: Size) -> Any:
    """The largest centred crop of ``pixels`` at ``target``'s ratio, resized to ``target``."""
    box = plan_crop(Size(pixels.width, pixels.height), target)
    return _resize(pixels.crop(box.left, box.top, box.width, box.height), target)


def _resize(pixels: Any, target: Size) -> Any:
    if (pixels.width, pixels.height) == (target.width, target.height):
        return pixels
    try:
        # size="force" gives exactly target, correcting the crop's sub-pixel ratio error.
        return pixels.thumbnail_image(target.width, height=target.height, size="force")
    except pyvips.Error as exc:
        raise ImagingError(f"Resizing to {target} failed: {exc.message}") from exc


def _webp(pixels: Any, *, quality: int, effort: int) -> bytes:
    try:
        # keep=0 strips metadata: derivatives are public files.
        data: bytes = pixels.webpsave_buffer(Q=quality, effort=effort, keep=0)
    except pyvips.Error as exc:
        raise ImagingError(
            f"WebP encoding at {pixels.width}x{pixels.height} failed: {exc.message}"
        ) from exc
    return data


def _decode(master: MasterSource) -> Any:
    if isinstance(master, pyvips.Image):
        return _as_srgb(master).copy_memory()
    try:
        if isinstance(master, bytes):
            loaded = pyvips.Image.new_from_buffer(master, "", access="sequential", fail_on="error")
        else:
            loaded = pyvips.Image.new_from_file(str(master), access="sequential", fail_on="error")
        # One decode into memory that every derivative reads. Shrink-on-load (webpload
        # scale=) would decode again per derivative: ~20 ms each against ~4 ms to resize.
        return _as_srgb(loaded).copy_memory()
    except pyvips.Error as exc:
        raise ImagingError(f"The master could not be decoded: {exc.message}") from exc


def _to_vips(image: GeneratedImage) -> Any:
    if isinstance(image, pyvips.Image):
        return _as_srgb(image)
    if isinstance(image, PILImage.Image):
        has_alpha = "A" in image.getbands() or "transparency" in image.info
        image = np.asarray(image.convert("RGBA" if has_alpha else "RGB"))
    array = np.asarray(image)
    channels = array.shape[2] if array.ndim == 3 else 1
    if array.dtype != np.uint8 or array.ndim not in (2, 3) or channels not in (1, 3, 4):
        raise InvalidInput(
            "A generated image must be PIL or a uint8 array shaped HxW, HxWx3 or HxWx4; "
            f"got dtype {array.dtype} and shape {array.shape}.",
            field="image",
        )
    return _as_srgb(pyvips.Image.new_from_array(np.ascontiguousarray(array)))


def _as_srgb(pixels: Any) -> Any:
    # Grey and 16-bit inputs become 8-bit sRGB so every output encodes the same way.
    if pixels.interpretation != "srgb" or pixels.format != "uchar":
        pixels = pixels.colourspace("srgb").cast("uchar")
    return pixels


def _check_encoding(*, quality: int, effort: int) -> None:
    if not 1 <= quality <= 100:
        raise InvalidInput(f"`quality` must be 1-100; got {quality}.", field="quality")
    if not 0 <= effort <= 6:
        raise InvalidInput(f"`effort` must be 0-6; got {effort}.", field="effort")
