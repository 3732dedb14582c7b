"""Derivatives of all nine families: imajin's shared pool, per-family pools, the WebP floor, Pillow.

Run: ``.venv/bin/python -m benchmarks.imaging.bench_derivatives [--repeats 5] [--only NAME ...]``

1. Nine synthetic, photograph-like masters (smooth multi-scale noise, a soft
   centred subject, fine grain) are written as WebP at their exact master
   sizes into a temporary directory. Not timed.
2. Each implementation runs in its own subprocess, so its peak RSS (which
   counts libvips' native memory, unlike tracemalloc) is its own. One run
   decodes the nine masters from disk and encodes all 30 derivatives to
   memory; the first run warms up and the median of the rest is kept.
   Wall and CPU time are both given: on a shared machine CPU time is the
   steadier figure, and CPU / wall shows how much the threads overlapped.
3. ``--rounds`` rounds run every implementation once each, back to back, so a
   change in the machine's load falls on all of them. A ratio against the
   floor is taken within each round (all rounds are printed) and the median
   of the rounds is reported; the table gives each figure's median too.

``shared-pool`` is what a variation runs: every family submitted at once to one
:class:`~imajin.imaging.render.DerivativePool` on all cores (decoding the masters
included; ``shared-pool-in-memory`` starts from masters decoded beforehand, as a
variation holds its generated pixels: the pool's scheduling and resizes alone). ``per-family-pools``
renders one family after another, each on a pool of its own (its largest encode
leaves the other cores idle at the end of each family). ``encode-floor`` only
WebP-encodes every distinct derivative's final-size pixels (decoded, cut and
resized beforehand, not timed) on all cores, largest first: no schedule of this
work can beat it by much. Both imajin paths must give the floor's bytes exactly.

All paths cut the same crops (``imajin.imaging.plan_crop``), resize with
Lanczos-3 (libvips adds a box pre-shrink for large reductions, as Pillow's
``reducing_gap`` would) and encode WebP with the same quality and effort
(libwebp ``method``) and no metadata. Both encode each distinct size once
(``story`` is ``tall``). ``pyvips-1-thread`` and ``pillow-threads`` separate
the library's share of the difference from the threads' share.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import PIL
import pyvips
from PIL import Image

from imajin.imaging import (
    FAMILIES,
    DerivativePool,
    FamilySpec,
    Size,
    plan_crop,
    render_derivatives,
)
from imajin.imaging.render import resolve_threads

# name -> (library, threads); threads 0 means one per CPU core.
IMPLEMENTATIONS: dict[str, tuple[str, int]] = {
    "shared-pool": ("shared", 0),
    "shared-pool-in-memory": ("shared-in-memory", 0),
    "per-family-pools": ("pyvips", 0),
    "encode-floor": ("floor", 0),
    "pyvips-1-thread": ("pyvips", 1),
    "pillow": ("pillow", 1),
    "pillow-threads": ("pillow", 0),
}
# derivative, width, height, bytes, sha256 prefix of the encoded file
Outputs = list[tuple[str, int, int, int, str]]
Run = Callable[[], Outputs]


# 1. Synthetic masters -------------------------------------------------------


def synthetic_master(spec: FamilySpec, seed: int) -> np.ndarray:
    """An HxWx3 uint8 image with photographic statistics: 1/f-like noise, a subject, grain."""
    rng = np.random.default_rng(seed)
    width, height = spec.master.width, spec.master.height
    image = np.zeros((height, width, 3), dtype=np.float32)
    for cell, weight in ((256, 1.0), (64, 0.5), (16, 0.25), (4, 0.1)):
        coarse = rng.normal(size=(height // cell + 2, width // cell + 2, 3)).astype(np.float32)
        smooth = pyvips.Image.new_from_array(coarse).resize(cell, kernel="cubic")
        image += weight * np.asarray(smooth.crop(0, 0, width, height).numpy())
    image = (image - image.mean()) / image.std() * 45 + 110
    # A soft bright ellipse in the safe zone, as a subject would be.
    y, x = np.ogrid[0:height, 0:width]
    radius = ((x - width / 2) / (0.25 * width)) ** 2 + ((y - height / 2) / (0.3 * height)) ** 2
    image += (70 * np.exp(-radius))[..., None] * np.array([1.0, 0.8, 0.6], dtype=np.float32)
    image += rng.normal(0, 3, size=image.shape).astype(np.float32)
    clipped: np.ndarray = np.clip(image, 0, 255).astype(np.uint8)
    return clipped


def write_masters(directory: Path, *, quality: int) -> None:
    for seed, spec in enumerate(FAMILIES):
        pixels = pyvips.Image.new_from_array(synthetic_master(spec, seed))
        pixels.webpsave(str(directory / f"{spec.name}.webp"), Q=quality, keep=0)


# 2. The two implementations ---------------------------------------------------


def _row(name: str, size: Size, data: bytes) -> tuple[str, int, int, int, str]:
    return (name, size.width, size.height, len(data), hashlib.sha256(data).hexdigest()[:16])


def pyvips_runner(masters: Path, *, quality: int, effort: int, threads: int) -> Run:
    def run() -> Outputs:
        outputs: Outputs = []
        for spec in FAMILIES:
            rendered = render_derivatives(
                masters / f"{spec.name}.webp",
                spec.name,
                quality=quality,
                effort=effort,
                threads=threads,
            )
            outputs += [_row(r.name, r.size, r.data) for r in rendered]
        return outputs

    return run


def shared_runner(
    masters: Path, *, quality: int, effort: int, threads: int, in_memory: bool = False
) -> Run:
    pool = DerivativePool(threads=threads)  # made once, as a worker process makes it
    # In memory: decoded beforehand (not timed), as a variation holds its generated pixels.
    sources: dict[str, Path | pyvips.Image] = {
        spec.name: masters / f"{spec.name}.webp" for spec in FAMILIES
    }
    if in_memory:
        sources = {n: pyvips.Image.new_from_file(str(p)).copy_memory() for n, p in sources.items()}

    def run() -> Outputs:
        futures = [
            pool.submit_derivatives(sources[spec.name], spec.name, quality=quality, effort=effort)
            for spec in FAMILIES
        ]
        return [_row(r.name, r.size, r.data) for future in futures for r in future.result()]

    return run


def shared_in_memory_runner(masters: Path, *, quality: int, effort: int, threads: int) -> Run:
    return shared_runner(masters, quality=quality, effort=effort, threads=threads, in_memory=True)


def floor_runner(masters: Path, *, quality: int, effort: int, threads: int) -> Run:
    # Not timed: decode, cut and resize every distinct derivative into memory.
    ready: dict[tuple[str, Size], pyvips.Image] = {}
    for spec in FAMILIES:
        master = pyvips.Image.new_from_file(str(masters / f"{spec.name}.webp")).copy_memory()
        for size in {d.size for d in spec.derivatives}:
            box = plan_crop(spec.master, size)
            region = master.crop(box.left, box.top, box.width, box.height)
            if (region.width, region.height) != (size.width, size.height):
                region = region.thumbnail_image(size.width, height=size.height, size="force")
            ready[spec.name, size] = region.copy_memory()
    jobs = sorted(ready, key=lambda key: -key[1].area)

    def encode(key: tuple[str, Size]) -> bytes:
        data: bytes = ready[key].webpsave_buffer(Q=quality, effort=effort, keep=0)
        return data

    def run() -> Outputs:
        with ThreadPoolExecutor(max_workers=threads) as pool:
            encoded = dict(zip(jobs, pool.map(encode, jobs), strict=True))
        return [
            _row(d.name, d.size, encoded[spec.name, d.size])
            for spec in FAMILIES
            for d in spec.derivatives
        ]

    return run


def pillow_runner(masters: Path, *, quality: int, effort: int, threads: int) -> Run:
    def run() -> Outputs:
        outputs: Outputs = []
        for spec in FAMILIES:
            with Image.open(masters / f"{spec.name}.webp") as opened:
                master = opened.convert("RGB")  # decodes once

            def render(size: Size, spec: FamilySpec = spec, master: Image.Image = master) -> bytes:
                box = plan_crop(spec.master, size)
                region = master.crop((box.left, box.top, box.right, box.bottom))
                if region.size != (size.width, size.height):
                    region = region.resize((size.width, size.height), Image.Resampling.LANCZOS)
                buffer = io.BytesIO()
                region.save(buffer, "WEBP", quality=quality, method=effort)
                return buffer.getvalue()

            # Like imajin: one encode per distinct size (story = tall), largest first.
            sizes = sorted({d.size for d in spec.derivatives}, key=lambda size: -size.area)
            if threads > 1:
                with ThreadPoolExecutor(max_workers=threads) as pool:
                    encoded = dict(zip(sizes, pool.map(render, sizes), strict=True))
            else:
                encoded = {size: render(size) for size in sizes}
            outputs += [_row(d.name, d.size, encoded[d.size]) for d in spec.derivatives]
        return outputs

    return run


RUNNERS: dict[str, Callable[..., Run]] = {
    "pyvips": pyvips_runner,
    "shared": shared_runner,
    "shared-in-memory": shared_in_memory_runner,
    "floor": floor_runner,
    "pillow": pillow_runner,
}


def peak_rss_mib() -> float:
    """This process's RSS high-water mark, native (libvips) memory included.

    Linux's VmHWM starts afresh at exec; ``ru_maxrss`` would carry over the
    parent's peak, which is why it is only the fallback.
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker(args: argparse.Namespace) -> None:
    """Run one implementation ``repeats + 1`` times and print its figures as JSON."""
    library, threads = IMPLEMENTATIONS[args.worker]
    threads = resolve_threads(threads)
    # Repeats must do the work again, not hit libvips' operation cache.
    pyvips.cache_set_max(0)
    baseline = peak_rss_mib()
    run = RUNNERS[library](
        Path(args.masters), quality=args.quality, effort=args.effort, threads=threads
    )
    walls, cpus = [], []
    outputs: Outputs = []
    for _ in range(args.repeats + 1):
        wall, cpu = time.perf_counter(), time.process_time()
        outputs = run()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    figures = {
        "wall_s": statistics.median(walls[1:]),
        "cpu_s": statistics.median(cpus[1:]),
        "peak_rss_mib": peak_rss_mib(),
        "baseline_rss_mib": baseline,
        "threads": threads,
        "outputs": outputs,
    }
    print(json.dumps(figures))


# 3. The comparison ------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    wall_s: float
    cpu_s: float
    peak_rss_mib: float
    baseline_rss_mib: float
    threads: int
    outputs: Outputs


def measure(name: str, masters: Path, args: argparse.Namespace) -> Figures:
    command = [
        sys.executable, "-m", "benchmarks.imaging.bench_derivatives", "--worker", name,
        "--masters", str(masters), "--repeats", str(args.repeats),
        "--quality", str(args.quality), "--effort", str(args.effort),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    raw = json.loads(done.stdout.strip().splitlines()[-1])
    raw["outputs"] = [tuple(row) for row in raw["outputs"]]
    return Figures(**raw)


def median_figures(rounds: list[Figures]) -> Figures:
    return Figures(
        wall_s=statistics.median(f.wall_s for f in rounds),
        cpu_s=statistics.median(f.cpu_s for f in rounds),
        peak_rss_mib=max(f.peak_rss_mib for f in rounds),
        baseline_rss_mib=min(f.baseline_rss_mib for f in rounds),
        threads=rounds[0].threads,
        outputs=rounds[0].outputs,
    )


def compare(args: argparse.Namespace) -> None:
    rounds: dict[str, list[Figures]] = {name: [] for name in args.only}
    with tempfile.TemporaryDirectory(prefix="imajin-bench-") as tmp:
        masters = Path(tmp)
        write_masters(masters, quality=args.master_quality)
        for _ in range(args.rounds):
            for name in args.only:
                rounds[name].append(measure(name, masters, args))
    results = {name: median_figures(figures) for name, figures in rounds.items()}

    first = next(iter(results.values()))
    sizes = [row[:3] for row in first.outputs]
    for name, figures in results.items():
        if [row[:3] for row in figures.outputs] != sizes:
            raise SystemExit(f"{name} produced different derivatives")
    # Same pixels, same encoder settings: every libvips path must give the same bytes.
    files = {n: [r[4] for r in f.outputs] for n, f in results.items() if "pillow" not in n}
    if len({tuple(hashes) for hashes in files.values()}) > 1:
        raise SystemExit(f"the libvips paths' bytes differ: {sorted(files)}")

    print(f"{len(sizes)} derivatives from 9 masters; WebP quality {args.quality}, "
          f"effort/method {args.effort}; median of {args.rounds} rounds of {args.repeats} "
          "runs after 1 warm-up; "
          f"{os.cpu_count()} CPU cores; libvips {pyvips.version(0)}.{pyvips.version(1)}."
          f"{pyvips.version(2)}, Pillow {PIL.__version__}")  # fmt: skip
    print(f"{'implementation':<22}{'threads':>8}{'wall s':>9}{'cpu s':>8}"
          f"{'peak RSS MiB':>14}{'(+ over start)':>16}{'output KiB':>12}")  # fmt: skip
    for name, f in results.items():
        added = f.peak_rss_mib - f.baseline_rss_mib
        total_kib = sum(row[3] for row in f.outputs) / 1024
        print(f"{name:<22}{f.threads:>8}{f.wall_s:>9.3f}{f.cpu_s:>8.3f}"
              f"{f.peak_rss_mib:>14.0f}{added:>16.0f}{total_kib:>12.0f}")  # fmt: skip
    if len(files) > 1:
        print(f"bytes: identical across {', '.join(sorted(files))}")
    print_ratios(rounds)
    print_pillow(results)


def print_ratios(rounds: dict[str, list[Figures]]) -> None:
    """Wall-time ratios within each round (the same minute's load), then their median."""

    def ratio(name: str, base: str) -> None:
        if name in rounds and base in rounds:
            pairs = list(zip(rounds[name], rounds[base], strict=True))
            each = [a.wall_s / b.wall_s for a, b in pairs]
            cpu = statistics.median(a.cpu_s / b.cpu_s for a, b in pairs)
            runs = ", ".join(f"{r:.2f}" for r in each)
            print(f"{name} / {base}: {statistics.median(each):.2f}x wall (rounds: {runs}), "
                  f"{cpu:.2f}x CPU")  # fmt: skip

    for name in ("shared-pool", "shared-pool-in-memory", "per-family-pools"):
        ratio(name, "encode-floor")
    ratio("per-family-pools", "shared-pool")
    print("target: shared-pool within 1.15x of encode-floor")


def print_pillow(results: dict[str, Figures]) -> None:
    pillow = results.get("pillow")
    for name in ("shared-pool", "pyvips-1-thread"):
        if pillow is not None and name in results:
            ours = results[name]
            print(f"{name} vs pillow: {pillow.wall_s / ours.wall_s:.2f}x faster (wall), "
                  f"{pillow.cpu_s / ours.cpu_s:.2f}x less CPU")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of every implementation")
    parser.add_argument("--quality", type=int, default=85)
    parser.add_argument("--effort", type=int, default=4)
    parser.add_argument("--master-quality", type=int, default=92)
    parser.add_argument(
        "--only",
        nargs="+",
        choices=IMPLEMENTATIONS,
        default=list(IMPLEMENTATIONS),
        help="implementations to run (default: all)",
    )
    parser.add_argument("--worker", choices=IMPLEMENTATIONS, help=argparse.SUPPRESS)
    parser.add_argument("--masters", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
    else:
        compare(args)


if __name__ == "__main__":
    main()
