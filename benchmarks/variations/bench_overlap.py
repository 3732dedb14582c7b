"""Variation wall time with and without the overlap: all nine families on the tiny SDXL.

    .venv/bin/python -m benchmarks.variations.bench_overlap [--steps 8] [--repeats 2]

One platform, its local dispatcher and one worker. The model is loaded and
warmed first (not counted). Then the same variation (nine families, one seed)
is generated ``repeats`` times in each mode, the modes alternating so that a
load change on a shared machine hits both:

- ``sequential``: each family's master and derivatives are encoded and stored
  before the engine starts the next family (the handler with ``overlap=False``);
- ``overlap``: family N is encoded on the shared derivative pool while the
  engine generates family N+1 (the default).

Timed from submit to the job's end. Two bounds from the same run put the
figures in context: ``engine only`` generates the nine images with nothing
else, ``pool only`` encodes them on the pool with nothing else. An overlap can
at best reach the larger of the two; sequential is about their sum.

The tiny SDXL generates at 128-px scale and the images are upscaled to full
master size, so here the encoding outweighs the generation; on a GPU with a
real model the generation is the larger part and the encodes hide under it.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import tempfile
import time
from pathlib import Path

import diffusers  # noqa: F401  # imported first, so its loggers exist to quieten
import torch
import transformers  # noqa: F401
from PIL import Image

from imajin.config.loader import load_settings
from imajin.engine.request import GenerationRequest
from imajin.imaging import FAMILY_NAMES, DerivativePool, plan_generation, safe_zone_prompt_hint
from imajin.jobs.models import JobStatus
from imajin.store.migrate import upgrade
from imajin.testing import build_tiny_sdxl
from imajin.testing.manifest import write_tiny_manifest
from imajin.variations.handler import VariationRenderer
from imajin.variations.schemas import GenerationInput, GenerationParams, VariationCreate
from imajin.wiring import Platform, build_platform, variation_renderer

MODEL = "tiny-sdxl"
PROMPT = "a lighthouse on a cliff at dawn, watercolour"


def _prepare(root: Path) -> Platform:
    data = root / "data"
    write_tiny_manifest(data, {MODEL: build_tiny_sdxl(root / MODEL)})
    environ = {
        "IMAJIN_DATA_DIR": str(data),
        "IMAJIN_LOGGING__LEVEL": "WARNING",
        "IMAJIN_JOBS__POLL_INTERVAL_S": "0.02",
        "IMAJIN_JOBS__WORKERS": "1",
        "IMAJIN_ENGINE__DEVICE": "cpu",
    }
    platform = build_platform(load_settings(environ=environ, cwd=root))
    upgrade(platform.database)
    return platform


def _handler(platform: Platform, pool: DerivativePool, *, overlap: bool) -> VariationRenderer:
    return variation_renderer(platform, pool=pool, overlap=overlap)


def _variation(platform: Platform, name: str, *, steps: int) -> tuple[float, GenerationParams]:
    started = time.perf_counter()
    body = VariationCreate(
        name=name,
        generation=GenerationInput(prompt=PROMPT, seed=7, model=MODEL, inference_steps=steps),
    )
    created = platform.variations.create(body)
    assert created.job_id is not None
    job = platform.jobs.wait(created.job_id, timeout_s=3600, poll_s=0.02)
    wall = time.perf_counter() - started
    if job.status != JobStatus.SUCCEEDED or (job.result or {}).get("status") != "complete":
        raise SystemExit(f"{name}: job {job.status}, {job.result}, {job.error}")
    return wall, GenerationParams.model_validate(created.generation_params)


def _bounds(
    platform: Platform, pool: DerivativePool, params: GenerationParams
) -> tuple[float, float]:
    """Engine alone, then the pool alone, on the nine images a variation makes."""
    native = platform.models.resolve(MODEL, allow_paths=True).native
    started = time.perf_counter()
    images: dict[str, Image.Image] = {}
    for name in FAMILY_NAMES:
        size = plan_generation(name, native=native).generate
        request = GenerationRequest(  # as the handler asks for it
            prompt=f"{params.prompt}, {safe_zone_prompt_hint()}"[:2000],
            negative_prompt=params.negative_prompt,
            model=params.model,
            width=size.width,
            height=size.height,
            steps=params.inference_steps,
            guidance=params.guidance_scale,
            seed=params.seed,
        )
        images[name] = platform.engine.generate(request).images[0].image
    engine_s = time.perf_counter() - started
    started = time.perf_counter()
    futures = [
        pool.submit_family(image, name, settings=platform.settings.imaging)
        for name, image in images.items()
    ]
    for future in futures:
        future.result()
    return engine_s, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--steps", type=int, default=8, help="denoising steps per family")
    parser.add_argument("--repeats", type=int, default=2, help="variations per mode")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = default)")
    args = parser.parse_args()
    for library in ("transformers", "diffusers"):  # the per-character tokenizer "overflows"
        logging.getLogger(library).setLevel(logging.ERROR)
    if args.threads:
        torch.set_num_threads(args.threads)
    walls: dict[str, list[float]] = {"sequential": [], "overlap": []}
    with tempfile.TemporaryDirectory() as scratch:
        platform = _prepare(Path(scratch))
        pool = DerivativePool(threads=platform.settings.imaging.threads)
        handlers = {mode: _handler(platform, pool, overlap=mode == "overlap") for mode in walls}
        try:
            platform.start()
            warm = time.perf_counter()
            platform.handlers.replace("variation", handlers["overlap"])
            _, params = _variation(platform, "warm-up", steps=args.steps)
            warm_s = time.perf_counter() - warm
            engine_s, pool_s = _bounds(platform, pool, params)
            for run in range(args.repeats):
                for mode, handler in handlers.items():
                    platform.handlers.replace("variation", handler)
                    wall, _ = _variation(platform, f"{mode}-{run}", steps=args.steps)
                    walls[mode].append(wall)
        finally:
            platform.close()
            pool.close()
    print(
        f"tiny SDXL, 9 families, {args.steps} steps; torch {torch.__version__}, "
        f"{torch.get_num_threads()} torch thread(s), derivative pool of {pool.threads} "
        f"thread(s), {os.cpu_count()} CPU cores; load and warm-up variation {warm_s:.1f} s"
    )
    print(f"engine only {engine_s:.2f} s, pool only {pool_s:.2f} s (same images, one pass each)")
    for mode, times in walls.items():
        runs = ", ".join(f"{t:.2f}" for t in times)
        print(f"{mode:<11} median {statistics.median(times):6.2f} s   runs: {runs}")
    sequential, overlap = (statistics.median(walls[mode]) for mode in ("sequential", "overlap"))
    print(
        f"overlap vs sequential: {sequential / overlap:.2f}x faster; "
        f"overlap / max(engine, pool) = {overlap / max(engine_s, pool_s):.2f}, "
        f"sequential / (engine + pool) = {sequential / (engine_s + pool_s):.2f}"
    )


if __name__ == "__main__":
    main()
