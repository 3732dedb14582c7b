"""Batch-studio throughput: the 22 major arcana through the local dispatcher, tiny SD 1.5.

    .venv/bin/python -m benchmarks.studio.bench_batch [--steps 20] [--size set|native]

The model is loaded and warmed first (loading is not batch work). Then one
batch of the shipped ``tarot`` set is submitted and timed from submit to the
last item's end. Reported: items/s, and where the wall time went —

- denoising loop: from the engine's per-step callbacks (the gaps between
  steps, our own progress bookkeeping taken out, scaled by steps / gaps for
  the first step of each image, whose start has no callback);
- progress: recording each step's progress (a store write and an event at
  most every 0.2 s) and checking for cancel, inside the step callback;
- pipeline outside the loop: text encoding, VAE decode, planning, LoRA
  set-up (the engine call minus the loop and the progress callbacks);
- writing: PNG with metadata, JSON sidecar, WebP thumbnail, all atomic;
- job system: submit, claim, start and finish (rows and events), hand-over
  between jobs (wall time minus the handlers' own time).

``--size set`` renders at the set's own size (512×880); ``--size native`` at
the tiny model's 64×64. The tiny UNet is a few channels wide, so its steps
are far cheaper than a real model's, while VAE decoding at full size and PNG
writing shrink much less: the shares measure imajin's per-item costs, they do
not forecast a real model's.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import diffusers  # noqa: F401  # imported first, so its loggers exist to quieten
import torch
import transformers  # noqa: F401
import yaml

from imajin.config.loader import load_settings
from imajin.store.migrate import upgrade
from imajin.studio.catalog import shipped_sets_dir
from imajin.studio.schemas import BatchCreate
from imajin.testing import TINY_NATIVE, build_tiny_sd15
from imajin.testing.manifest import write_tiny_manifest
from imajin.wiring import Platform, build_platform

SET = "tarot"
THEME = "art nouveau, gold leaf"


def _prepare(root: Path, *, steps: int, size: str, device: str) -> Platform:
    data = root / "data"
    write_tiny_manifest(data, {"tiny-sd15": build_tiny_sd15(root / "tiny-sd15")})
    if size == "native":  # the same rows at the tiny model's native size, as an operator set
        entry = yaml.safe_load((shipped_sets_dir() / f"{SET}.yaml").read_text())
        native = TINY_NATIVE["sd15"]
        entry.update(
            width=native, height=native, csv_path=str(shipped_sets_dir() / entry["csv_path"])
        )
        (data / "sets").mkdir(parents=True)
        (data / "sets" / f"{SET}.yaml").write_text(yaml.safe_dump(entry), encoding="utf-8")
    environ = {
        "IMAJIN_DATA_DIR": str(data),
        "IMAJIN_LOGGING__LEVEL": "WARNING",
        "IMAJIN_JOBS__POLL_INTERVAL_S": "0.05",
        "IMAJIN_ENGINE__DEVICE": device,
        "IMAJIN_STUDIO__DEFAULTS__MODEL": "tiny-sd15",
        "IMAJIN_STUDIO__DEFAULTS__STEPS": str(steps),
    }
    platform = build_platform(load_settings(environ=environ, cwd=root))
    upgrade(platform.database)
    return platform


def _warm(platform: Platform) -> float:
    """Load the model and run one image, so the batch measures steady state."""
    started = time.perf_counter()
    card_set = platform.studio.sets.get(SET)
    platform.engine.generate(
        {
            "prompt": "warm-up",
            "model": "tiny-sd15",
            "width": card_set.entry.width,
            "height": card_set.entry.height,
            "steps": 2,
            "seed": 0,
        }
    )
    return time.perf_counter() - started


def _run_batch(platform: Platform) -> dict[str, Any]:
    started = time.perf_counter()
    created = platform.studio.create_batch(BatchCreate(set_name=SET, user_theme=THEME, seed=1))
    for job_id in created.job_ids:
        platform.jobs.wait(job_id, timeout_s=3600, poll_s=0.05)
    wall = time.perf_counter() - started
    jobs = platform.studio.batch_jobs(created.batch_id)
    failed = [job for job in jobs if job.status != "succeeded"]
    if failed:
        raise SystemExit(f"{len(failed)} items did not succeed: {failed[0].error}")
    timings = [job.result["timings"] for job in jobs if job.result]

    def total(key: str) -> float:
        return sum(float(t[key]) for t in timings)

    denoise, progress, generate, save, handler = (
        total("denoiseS"),
        total("progressS"),
        total("generateS"),
        total("saveS"),
        total("handlerS"),
    )
    return {
        "items": len(jobs),
        "wall": wall,
        "denoise": denoise,
        "progress": progress,
        "pipeline_outside_loop": generate - denoise - progress,
        "write": save,
        "job_system": wall - handler,
        "per_item_s": statistics.median(float(t["handlerS"]) for t in timings),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20, help="denoising steps per image")
    parser.add_argument("--size", choices=("set", "native"), default="set")
    parser.add_argument("--device", default="cpu", help="engine.device: cpu, cuda, auto")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (0 = default)")
    parser.add_argument("--repeats", type=int, default=1, help="batches to run (best reported)")
    args = parser.parse_args()
    # The tiny tokenizer is per character, so every prompt "overflows" CLIP's 77 tokens.
    for library in ("transformers", "diffusers"):
        logging.getLogger(library).setLevel(logging.ERROR)
    if args.threads:
        torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as scratch:
        platform = _prepare(Path(scratch), steps=args.steps, size=args.size, device=args.device)
        try:
            platform.start()
            load_s = _warm(platform)
            runs = [_run_batch(platform) for _ in range(args.repeats)]
        finally:
            platform.close()
    best = min(runs, key=lambda run: run["wall"])
    wall = best["wall"]
    card = f"{SET} ({best['items']} items), {args.steps} steps, size {args.size}"
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), device {args.device}")
    print(f"{card}; model load + warm-up {load_s:.2f} s (not counted)")
    print(
        f"wall {wall:.2f} s → {best['items'] / wall:.2f} items/s, {best['per_item_s']:.3f} s/item"
    )
    print(f"{'part':<24} {'seconds':>8} {'share':>7}")
    for key in ("denoise", "progress", "pipeline_outside_loop", "write", "job_system"):
        print(f"{key.replace('_', ' '):<24} {best[key]:>8.3f} {best[key] / wall:>7.1%}")
    outside = 1 - best["denoise"] / wall
    print(f"outside the denoising loop: {outside:.1%} (goal < 10%)")


if __name__ == "__main__":
    main()
