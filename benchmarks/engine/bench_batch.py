"""Batched denoising on the tiny SD 1.5 and SDXL pipelines: images/s at batch 1, 4 and 8.

One engine per batch size (``engine.max_batch``) over the same tiny weights, 8 requests
with their own prompts and seeds sent through ``Engine.generate_batch``. Every batched
image is compared with the image the same engine makes of the request alone
(``Engine.generate``): the script reports whether the pixels are identical and, if not,
the largest difference in 0-255 levels. (Above batch 1 the engine uses batch-invariant
kernels on CPU, for single images too: see ``imajin.engine.invariance``.)

Run: ``HF_HUB_OFFLINE=1 .venv/bin/python -m benchmarks.engine.bench_batch``
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import diffusers
import numpy as np
import torch
import transformers

from imajin.engine import Engine, EngineSettings, build_engine
from imajin.engine.batching import BatchRequest
from imajin.testing import TINY_NATIVE, build_tiny_sd15, build_tiny_sdxl
from imajin.testing.manifest import TINY_STYLE_DEFAULTS, write_tiny_manifest

SUBJECTS = ["a lighthouse", "a red fox", "a bowl of lemons", "a sailing boat"]
PLACES = ["on a cliff", "in a forest", "on a table", "at dusk"]


def requests(model: str, *, count: int, steps: int) -> list[BatchRequest]:
    """``count`` distinct requests of one shape (own prompt, negative prompt and seed)."""
    return [
        BatchRequest(
            {
                "prompt": f"{SUBJECTS[index % 4]} {PLACES[index // 4 % 4]}",
                "negative_prompt": "blurry" if index % 2 else "lowres",
                "model": model,
                "steps": steps,
                "seed": 100 + index,
            }
        )
        for index in range(count)
    ]


def run_once(engine: Engine, items: list[BatchRequest]) -> tuple[float, list[np.ndarray]]:
    started = time.perf_counter()
    outcomes = engine.generate_batch(items)
    seconds = time.perf_counter() - started
    images = []
    for outcome in outcomes:
        if isinstance(outcome, Exception):
            raise outcome
        images.append(np.asarray(outcome.images[0].image).astype(np.int16))
    return seconds, images


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=8, help="denoising steps per image")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per batch size")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = default)")
    parser.add_argument("--device", default="cpu", help="engine.device: cpu, cuda, cuda:N, auto")
    parser.add_argument("--batches", default="1,4,8", help="batch sizes, comma-separated")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    diffusers.utils.logging.disable_progress_bar()
    transformers.utils.logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    batches = [int(value) for value in args.batches.split(",")]
    count = max(batches)
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        paths = {
            "tiny-sd15": build_tiny_sd15(root / "tiny-sd15"),
            "tiny-sdxl": build_tiny_sdxl(root / "tiny-sdxl"),
        }
        write_tiny_manifest(root / "data", paths)
        print(
            f"torch {torch.__version__}, diffusers {diffusers.__version__}, "
            f"{torch.get_num_threads()} thread(s), device {args.device}, {args.steps} steps, "
            f"{count} requests, median of {args.repeats}"
        )
        print(
            f"{'model':<10} {'size':>5} {'batch':>6} {'s/img':>8} {'img/s':>8} {'speed-up':>9} "
            f"{'same px':>8} {'max diff':>9}"
        )
        for model_id in paths:
            size = TINY_NATIVE["sd15" if model_id == "tiny-sd15" else "sdxl"]
            base_rate = 0.0
            for batch in batches:
                settings = EngineSettings.model_validate(
                    {"defaults": TINY_STYLE_DEFAULTS, "device": args.device, "max_batch": batch}
                )
                engine = build_engine(settings, data_dir=root / "data")
                items = requests(model_id, count=count, steps=args.steps)
                run_once(engine, items)  # load and warm
                timed = [run_once(engine, items) for _ in range(args.repeats)]
                seconds = statistics.median(t for t, _ in timed)
                images = timed[0][1]
                alone = [
                    np.asarray(engine.generate(item.request).images[0].image).astype(np.int16)
                    for item in items
                ]
                diff = max(int(np.abs(a - b).max()) for a, b in zip(alone, images, strict=True))
                rate = count / seconds
                base_rate = base_rate or rate
                print(
                    f"{model_id:<10} {size:>5} {batch:>6} {seconds / count:>8.4f} {rate:>8.1f} "
                    f"{rate / base_rate:>8.2f}x {'yes' if diff == 0 else 'no':>8} {diff:>9}"
                )


if __name__ == "__main__":
    main()
