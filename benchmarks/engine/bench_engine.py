"""Engine overhead vs a plain diffusers call, on the tiny SD 1.5 and SDXL pipelines.

For each model the same weights are loaded twice in one process: once through
imajin's engine (registry → warm cache → plan → scheduler → callback) and once
as a bare ``DiffusionPipeline`` with the same scheduler. Both are warmed, then
runs alternate (engine, plain, engine, ...) so drift and noise hit both alike.
The script checks that both produce identical pixels (so they do the same work)
and prints the median seconds per image, steps/s, and the engine's overhead.

Run: ``HF_HUB_OFFLINE=1 .venv/bin/python -m benchmarks.engine.bench_engine``
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import diffusers
import numpy as np
import torch
import transformers

from imajin.engine import Engine, EngineSettings, build_engine
from imajin.testing import TINY_NATIVE, build_tiny_sd15, build_tiny_sdxl
from imajin.testing.manifest import TINY_STYLE_DEFAULTS, write_tiny_manifest

PROMPT = "a lighthouse on a cliff at dusk, dramatic sky"
NEGATIVE = "blurry, lowres"
# The tiny cards' default samplers: DPM++ 2M for SD 1.5, Euler a for SDXL.
PLAIN_SCHEDULERS: dict[str, tuple[str, dict[str, Any]]] = {
    "tiny-sd15": ("DPMSolverMultistepScheduler", {"algorithm_type": "dpmsolver++"}),
    "tiny-sdxl": ("EulerAncestralDiscreteScheduler", {}),
}


def _timed(fn: Callable[[], Any]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def bench_model(
    engine: Engine, model_id: str, path: Path, *, steps: int, size: int, repeats: int
) -> dict[str, float]:
    """Median seconds per image through the engine and through plain diffusers."""
    engine.load(model_id)
    warm = engine._cache.peek(model_id)  # the engine's device and dtype, for the plain side too
    assert warm is not None
    plain = diffusers.DiffusionPipeline.from_pretrained(  # type: ignore[no-untyped-call]
        path, local_files_only=True, dtype=warm.dtype
    )
    plain.to(warm.device)
    plain.set_progress_bar_config(disable=True)
    # Inference weights, as the engine loads them: on AVX-512 CPUs weights that may take a
    # gradient run other kernels, which differ from the frozen ones in the last bit.
    for component in plain.components.values():
        if isinstance(component, torch.nn.Module):
            component.requires_grad_(False)
    class_name, options = PLAIN_SCHEDULERS[model_id]
    plain.scheduler = getattr(diffusers, class_name).from_config(
        plain.scheduler.config, prediction_type="epsilon", **options
    )
    request = {
        "prompt": PROMPT,
        "negative_prompt": NEGATIVE,
        "model": model_id,
        "width": size,
        "height": size,
        "steps": steps,
        "seed": 1234,
    }

    def via_engine() -> np.ndarray:
        return np.asarray(engine.generate(request).images[0].image)

    def via_plain() -> np.ndarray:
        image = plain(
            PROMPT,
            negative_prompt=NEGATIVE,
            width=size,
            height=size,
            num_inference_steps=steps,
            guidance_scale=engine.registry.get(model_id).guidance,
            generator=torch.Generator("cpu").manual_seed(1234),
        ).images[0]
        return np.asarray(image)

    same = np.array_equal(via_engine(), via_plain())  # also warms both
    via_engine()
    via_plain()
    engine_times: list[float] = []
    plain_times: list[float] = []
    for index in range(repeats):
        # Swap the order every round so neither side always runs on a "warmer" cache.
        if index % 2:
            plain_times.append(_timed(via_plain))
            engine_times.append(_timed(via_engine))
        else:
            engine_times.append(_timed(via_engine))
            plain_times.append(_timed(via_plain))
    engine_s = statistics.median(engine_times)
    plain_s = statistics.median(plain_times)
    return {
        "identical": float(same),
        "engine_s": engine_s,
        "plain_s": plain_s,
        "engine_steps_per_s": steps / engine_s,
        "plain_steps_per_s": steps / plain_s,
        "overhead": engine_s / plain_s - 1.0,
        "min_overhead": min(engine_times) / min(plain_times) - 1.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20, help="denoising steps per image")
    parser.add_argument("--repeats", type=int, default=20, help="timed runs of each, alternating")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (0 = default)")
    parser.add_argument("--device", default="cpu", help="engine.device: cpu, cuda, cuda:N, auto")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    diffusers.utils.logging.disable_progress_bar()
    transformers.utils.logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        paths = {
            "tiny-sd15": build_tiny_sd15(root / "tiny-sd15"),
            "tiny-sdxl": build_tiny_sdxl(root / "tiny-sdxl"),
        }
        write_tiny_manifest(root / "data", paths)
        settings = EngineSettings.model_validate(
            {"defaults": TINY_STYLE_DEFAULTS, "device": args.device}
        )
        engine = build_engine(settings, data_dir=root / "data")
        print(
            f"torch {torch.__version__}, diffusers {diffusers.__version__}, "
            f"{torch.get_num_threads()} thread(s), device {args.device}, {args.steps} steps, "
            f"{args.repeats} repeats"
        )
        print(
            f"{'model':<10} {'size':>5} {'engine s/img':>13} {'plain s/img':>12} "
            f"{'engine it/s':>12} {'plain it/s':>11} {'overhead':>9} {'(min)':>7} {'same px':>8}"
        )
        for model_id, path in paths.items():
            size = TINY_NATIVE["sd15" if model_id == "tiny-sd15" else "sdxl"]
            r = bench_model(
                engine, model_id, path, steps=args.steps, size=size, repeats=args.repeats
            )
            print(
                f"{model_id:<10} {size:>5} {r['engine_s']:>13.4f} {r['plain_s']:>12.4f} "
                f"{r['engine_steps_per_s']:>12.1f} {r['plain_steps_per_s']:>11.1f} "
                f"{r['overhead']:>+8.1%} {r['min_overhead']:>+7.1%} "
                f"{'yes' if r['identical'] else 'NO':>8}"
            )


if __name__ == "__main__":
    main()
