"""GPU throughput: full-size SD 1.5, SDXL and Z-Image, plain diffusers against imajin's engine.

Each model is built at full size from its published configs with random weights
(:mod:`benchmarks.gpu.full_size`; nothing is downloaded) in the engine's CUDA dtype
(float16 for SD 1.5/SDXL, bfloat16 for Z-Image), then timed at batch 1, 4 and 8:

- ``diffusers``: one plain pipeline call with ``batch`` prompts and per-image CPU
  generators, the engine's sampler swapped in (the same work the engine does);
- ``engine``: ``Engine.generate_batch`` over ``batch`` requests (own prompt and seed
  each) with ``engine.max_batch`` ≥ ``batch``, so they are denoised in one call;
- ``engine+compile``: the same with ``engine.torch_compile`` (opt-in: compiling takes
  minutes per model, and batch sizes recompile).

Both sides share one pipeline object (the engine gets it through a loader that hands
it over), so they run the same weights. Each row: one short warm-up call
(``--warmup-steps``), then ``--repeats`` timed calls (median). Reported: seconds per
image, denoising steps per second of the batched call, images per second, peak VRAM
(``torch.cuda.max_memory_allocated``, weights included) and the share of the device's
dense bf16 peak reached by the denoiser: its FLOPs per call are counted with
``torch.utils.flop_counter.FlopCounterMode`` on one real call (CFG halves included),
times the calls per step, over the whole call's wall time (text encoding and VAE decode
count as time, not FLOPs, so the share is a lower bound).

Run on a GPU machine (estimated 3-5 minutes on an H100 from the FLOP counts, not yet
measured on one; rows not started within ``--budget-s`` are skipped, and the table is
written row by row, so a run always ends inside a 10-minute slot with what it measured):
``HF_HUB_OFFLINE=1 .venv/bin/python -m benchmarks.gpu.bench_gpu --output gpu.md``
Smoke test on a CPU (tiny models, 2 steps, batch 1/2, float32):
``.venv/bin/python -m benchmarks.gpu.bench_gpu --tiny``
"""

from __future__ import annotations

import argparse
import gc
import statistics
import tempfile
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import diffusers
import torch
import transformers
from torch.utils.flop_counter import FlopCounterMode

from benchmarks.gpu.full_size import build_full_size, denoiser_inputs
from imajin.config.engine import EngineSettings, StyleDefaults
from imajin.engine.batching import BatchRequest
from imajin.engine.engine import Engine
from imajin.engine.families import FAMILIES, Family, FamilyId
from imajin.engine.loaders import PipelineLoader
from imajin.engine.registry import ModelRegistry
from imajin.engine.schedulers import build_scheduler
from imajin.engine.spec import ModelSpec
from imajin.testing import TINY_NATIVE, build_tiny_model

VARIANTS = ("diffusers", "engine", "engine+compile")
DEFAULT_VARIANTS = ("diffusers", "engine")
SUBJECTS = ["a lighthouse", "a red fox", "a bowl of lemons", "a sailing boat"]
PLACES = ["on a cliff at dusk", "in a misty forest", "on a wooden table", "in a harbour"]
NEGATIVE = "blurry, lowres"
_GIB = 1024**3

# Dense (no sparsity) bf16/fp16 tensor-core peak in TFLOPS, by a piece of the CUDA device
# name; first match wins, so more specific names come first ("H100 PCIe" before "H100").
PEAK_TFLOPS: tuple[tuple[str, float], ...] = (
    ("GH200", 989.0),
    ("H200", 989.0),
    ("H100 PCIe", 756.0),
    ("H100 NVL", 835.0),
    ("H100", 989.0),  # SXM (reported as "H100 80GB HBM3")
    ("H800", 989.0),
    ("B200", 2250.0),
    ("A100", 312.0),
    ("A800", 312.0),
    ("L40S", 362.0),
    ("L40", 181.0),
    ("L4", 121.0),
    ("A10G", 70.0),
    ("A10", 125.0),
    ("RTX 6000 Ada", 364.0),
    ("RTX 4090", 165.0),
    ("RTX 3090", 71.0),
)


@dataclass(frozen=True)
class Case:
    """One model as benchmarked: family, image side, steps, guidance, sampler."""

    family: FamilyId
    size: int
    steps: int
    guidance: float
    scheduler: str
    dtype: torch.dtype | None = None
    """None: the engine's choice for the device (see :func:`bench_dtype`)."""

    @property
    def label(self) -> str:
        return FAMILIES[self.family].label


FULL_CASES: dict[str, Case] = {
    "sd15": Case("sd15", size=512, steps=25, guidance=7.0, scheduler="dpmpp_2m_karras"),
    "sdxl": Case("sdxl", size=1024, steps=30, guidance=6.0, scheduler="dpmpp_2m_karras"),
    "zimage": Case("zimage", size=1024, steps=8, guidance=0.0, scheduler="euler"),
}
TINY_STEPS = 2


@dataclass(frozen=True)
class Row:
    """One measured (model, variant, batch); ``error`` set when the row could not run."""

    case: Case
    dtype: torch.dtype
    variant: str
    batch: int
    seconds: float = 0.0
    peak_bytes: int | None = None
    flops_per_step: float | None = None
    peak_tflops: float | None = None
    error: str | None = None

    def cells(self) -> list[str]:
        head = [
            self.case.label,
            f"{self.case.size}²",
            str(self.case.steps),
            str(self.dtype).removeprefix("torch."),
            self.variant,
            str(self.batch),
        ]
        if self.error is not None:
            return [*head, self.error, *["—"] * 6]
        achieved = (
            self.flops_per_step * self.case.steps / self.seconds / 1e12
            if self.flops_per_step is not None
            else None
        )
        share = (
            f"{achieved / self.peak_tflops:.1%}"
            if achieved is not None and self.peak_tflops
            else "n/a"
        )
        return [
            *head,
            f"{self.seconds / self.batch:.4f}",
            f"{self.case.steps / self.seconds:.2f}",
            f"{self.batch / self.seconds:.3f}",
            f"{self.peak_bytes / _GIB:.1f}" if self.peak_bytes is not None else "n/a",
            _number(self.flops_per_step / 1e12) if self.flops_per_step is not None else "n/a",
            _number(achieved) if achieved is not None else "n/a",
            share,
        ]


COLUMNS = [
    "model",
    "size",
    "steps",
    "dtype",
    "variant",
    "batch",
    "s/image",
    "it/s",
    "images/s",
    "peak VRAM GiB",
    "denoiser TFLOP/step",
    "TFLOPS",
    "share of peak",
]


class Table:
    """Markdown lines, printed and (with ``output``) written to a file as each one arrives.

    Written line by line so a run stopped by a time limit still leaves the rows it made.
    """

    def __init__(self, output: Path | None) -> None:
        self.lines: list[str] = []
        self._output = output
        if output is not None:
            output.write_text("", encoding="utf-8")

    def add(self, *lines: str) -> None:
        for line in lines:
            print(line, flush=True)
            self.lines.append(line)
            if self._output is not None:
                with self._output.open("a", encoding="utf-8") as out:
                    out.write(line + "\n")


def _number(value: float) -> str:
    return f"{value:.4g}" if value >= 0.01 else f"{value:.3e}"


# -- pipelines --------------------------------------------------------------------------------


class PrebuiltLoader(PipelineLoader):
    """Hands the engine an already-built pipeline instead of reading one from disk."""

    def __init__(self, family: Family, pipeline: Any) -> None:
        super().__init__(family)
        self._pipeline = pipeline

    def load(
        self, spec: ModelSpec, *, dtype: torch.dtype, offline: bool, cache_dir: Path | None
    ) -> Any:
        return self._pipeline


def build_pipeline(case: Case, *, tiny: bool, device: torch.device, scratch: Path) -> Any:
    """The pipeline of ``case`` on ``device``: tiny (from imajin.testing) or full size."""
    dtype = case.dtype or bench_dtype(case.family, device)
    if tiny:
        folder = build_tiny_model(case.family, scratch / f"tiny-{case.family}")
        pipe = diffusers.DiffusionPipeline.from_pretrained(  # type: ignore[no-untyped-call]
            folder, local_files_only=True, dtype=dtype
        )
        pipe.to(device)
    else:
        pipe = build_full_size(case.family, device=device, dtype=dtype)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def bench_dtype(family: FamilyId, device: torch.device) -> torch.dtype:
    """The engine's dtype for ``family`` on ``device`` (half on CUDA, float32 on CPU)."""
    if device.type != "cuda":
        return torch.float32
    return getattr(torch, FAMILIES[family].cuda_dtype)  # type: ignore[no-any-return]


def _prompts(batch: int) -> list[str]:
    return [f"{SUBJECTS[index % 4]} {PLACES[index // 4 % 4]}" for index in range(batch)]


class NotBatched(RuntimeError):
    """The engine made the images in smaller calls than asked (a batched call failed)."""


Runner = Callable[[int, int], None]
"""(batch, steps) → makes ``batch`` images in one pipeline call."""


def plain_runner(pipe: Any, case: Case) -> Runner:
    """A bare diffusers call with the engine's sampler for ``case`` swapped in."""
    scheduler = build_scheduler(
        case.scheduler,
        base_config=pipe.scheduler.config,
        family=FAMILIES[case.family],
        prediction="epsilon",
    )

    def run(batch: int, steps: int) -> None:
        original = pipe.scheduler
        pipe.scheduler = scheduler
        try:
            pipe(
                prompt=_prompts(batch),
                negative_prompt=[NEGATIVE] * batch,
                width=case.size,
                height=case.size,
                num_inference_steps=steps,
                guidance_scale=case.guidance,
                generator=[torch.Generator("cpu").manual_seed(100 + i) for i in range(batch)],
                output_type="pil",
            )
        finally:
            pipe.scheduler = original

    return run


def engine_runner(
    pipe: Any, case: Case, *, device: torch.device, max_batch: int, compile_denoiser: bool
) -> Runner:
    """imajin's engine over ``pipe``: ``batch`` requests denoised in one call."""
    family = FAMILIES[case.family]
    spec = ModelSpec(
        id=f"bench-{case.family}",
        name=f"{case.label} (random weights)",
        style="photorealistic",
        family=case.family,
        # Never read: the loader hands over ``pipe``; an empty folder hashes to "no hash".
        source=str(Path(tempfile.gettempdir()) / f"imajin-bench-{case.family}"),
        native=max(case.size, 64),
        scheduler=case.scheduler,
        steps=case.steps,
        guidance=case.guidance,
    )
    registry = ModelRegistry([spec], defaults=StyleDefaults(photorealistic=spec.id, anime=spec.id))
    settings = EngineSettings(
        device=str(device),
        dtype=str(case.dtype or bench_dtype(case.family, device)).removeprefix("torch."),
        max_batch=max_batch,
        torch_compile=compile_denoiser,
        memory_budget_gb=1000.0,  # one model; never evict it mid-benchmark
        embed_metadata=False,
    )
    engine = Engine(
        registry=registry, settings=settings, loaders={case.family: PrebuiltLoader(family, pipe)}
    )

    def run(batch: int, steps: int) -> None:
        items = [
            BatchRequest(
                {
                    "prompt": prompt,
                    "negative_prompt": NEGATIVE,
                    "model": spec.id,
                    "width": case.size,
                    "height": case.size,
                    "steps": steps,  # guidance and sampler: the spec's, as set from ``case``
                    "seed": 100 + index,
                }
            )
            for index, prompt in enumerate(_prompts(batch))
        ]
        for outcome in engine.generate_batch(items):
            if isinstance(outcome, Exception):
                raise outcome
            if outcome.batch_size != batch:
                # The engine retries a failed batched call image by image (an OOM, say).
                raise NotBatched(f"engine batched {outcome.batch_size}, not {batch}")

    return run


# -- measuring --------------------------------------------------------------------------------


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def count_denoiser(pipe: Any, run: Runner, *, batch: int, steps: int) -> tuple[float, float]:
    """(FLOPs of one denoiser call at ``batch``, denoiser calls per step), from a real call.

    Runs ``run(batch, steps)`` once with a hook that records the denoiser's first call and
    counts its calls, then replays that call under ``FlopCounterMode``.
    """
    denoiser = pipe.unet if hasattr(pipe, "unet") else pipe.transformer
    captured: list[tuple[tuple[Any, ...], dict[str, Any]]] = []

    def record(_module: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        captured.append((args, kwargs) if not captured else ((), {}))

    handle = denoiser.register_forward_pre_hook(record, with_kwargs=True)
    try:
        run(batch, steps)
    finally:
        handle.remove()
    args, kwargs = captured[0]
    counter = FlopCounterMode(display=False)
    with torch.inference_mode(), counter:
        denoiser(*args, **kwargs)
    return float(counter.get_total_flops()), len(captured) / steps


def measure(
    run: Runner, *, batch: int, steps: int, warmup_steps: int, repeats: int, device: torch.device
) -> tuple[float, int | None]:
    """(median seconds of one ``batch``-image call, peak device bytes or None on CPU)."""
    run(batch, warmup_steps)  # allocator, kernels, torch.compile
    _sync(device)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run(batch, steps)
        _sync(device)
        times.append(time.perf_counter() - started)
    peak = int(torch.cuda.max_memory_allocated(device)) if device.type == "cuda" else None
    return statistics.median(times), peak


@dataclass(frozen=True)
class Options:
    """What to run (from the command line)."""

    device: torch.device
    tiny: bool
    batches: list[int]
    variants: list[str]
    repeats: int
    warmup_steps: int
    peak_tflops: float | None
    deadline: float
    """``time.perf_counter()`` after which rows are skipped (``--budget-s``)."""


def bench_case(case: Case, options: Options, scratch: Path, table: Table) -> list[Row]:
    """Every (variant, batch) row of one model, each added to ``table`` when measured."""
    device = options.device
    pipe = build_pipeline(case, tiny=options.tiny, device=device, scratch=scratch)
    dtype = case.dtype or bench_dtype(case.family, device)
    plain = plain_runner(pipe, case)
    flops: dict[int, float] = {}
    rows: list[Row] = []
    for batch in options.batches:
        try:
            per_call, calls_per_step = count_denoiser(
                pipe, plain, batch=batch, steps=options.warmup_steps
            )
            flops[batch] = per_call * calls_per_step
        except torch.cuda.OutOfMemoryError:
            _release(device)
    for variant in options.variants:
        run = (
            plain
            if variant == "diffusers"
            else engine_runner(
                pipe,
                case,
                device=device,
                max_batch=max(options.batches),
                compile_denoiser=variant == "engine+compile",
            )
        )
        for batch in options.batches:
            row = Row(case, dtype, variant, batch, peak_tflops=options.peak_tflops)
            if time.perf_counter() > options.deadline:
                rows.append(replace(row, error="skipped (--budget-s)"))
                table.add("| " + " | ".join(rows[-1].cells()) + " |")
                continue
            try:
                seconds, peak = measure(
                    run,
                    batch=batch,
                    steps=case.steps,
                    warmup_steps=options.warmup_steps,
                    repeats=options.repeats,
                    device=device,
                )
                row = replace(
                    row, seconds=seconds, peak_bytes=peak, flops_per_step=flops.get(batch)
                )
            except (torch.cuda.OutOfMemoryError, NotBatched) as error:
                _release(device)
                row = replace(row, error=str(error) if isinstance(error, NotBatched) else "OOM")
            rows.append(row)
            table.add("| " + " | ".join(row.cells()) + " |")
    del pipe, plain, run
    _release(device, compiled="engine+compile" in options.variants)
    return rows


def _release(device: torch.device, *, compiled: bool = False) -> None:
    if compiled:
        torch._dynamo.reset()  # compiled graphs hold the last model's weights alive
    gc.collect()
    if device.type == "cuda":
        torch.cuda.empty_cache()


def meta_flops_per_step(case: Case, *, batch: int) -> float:
    """FLOPs of one full-size denoising step for ``batch`` images, counted on the meta device.

    Shapes only (no weights in memory, no GPU): the same counter as the timed runs, on the
    inputs the pipeline would pass (see :func:`benchmarks.gpu.full_size.denoiser_inputs`).
    """
    pipe = build_full_size(case.family, device="meta", dtype=torch.bfloat16)
    denoiser = pipe.unet if hasattr(pipe, "unet") else pipe.transformer
    args, kwargs = denoiser_inputs(
        case.family, batch=batch, size=case.size, device="meta", dtype=torch.bfloat16
    )
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        denoiser(*args, **kwargs)
    return float(counter.get_total_flops())


def flops_table(chosen: list[Case], *, peak_tflops: float) -> list[str]:
    """Markdown: each model's denoiser work per image and the images/s ceiling it implies."""
    lines = [
        f"# Denoiser FLOPs at full size (meta device; ceilings at {peak_tflops:g} TFLOPS)",
        "",
        "TFLOP/step/image counts both CFG halves (SD 1.5, SDXL); the ceilings are the images/s",
        "a GPU would reach if the denoiser ran at that share of its peak and nothing else took "
        "time.",
        "",
        "| model | size | steps | TFLOP/step/image | TFLOP/image | images/s at 100 % | at 50 % |",
        "|---|---|---|---|---|---|---|",
    ]
    for case in chosen:
        per_step = meta_flops_per_step(case, batch=1) / 1e12
        per_image = per_step * case.steps
        ceiling = peak_tflops / per_image
        lines.append(
            f"| {case.label} | {case.size}² | {case.steps} | {per_step:.3f} | {per_image:.1f} "
            f"| {ceiling:.2f} | {ceiling / 2:.2f} |"
        )
    return lines


# -- device facts and output ------------------------------------------------------------------


def device_peak_tflops(device: torch.device, override: float | None) -> tuple[float | None, str]:
    """(dense bf16 peak TFLOPS or None, where the number came from)."""
    if override is not None:
        return override, "--peak-tflops"
    if device.type != "cuda":
        return None, "no peak for a CPU"
    name = torch.cuda.get_device_name(device)
    for piece, peak in PEAK_TFLOPS:
        if piece in name:
            return peak, f"table entry {piece!r}"
    return None, f"{name!r} is not in the table; pass --peak-tflops"


def header(options: Options, peak_source: str) -> list[str]:
    device = options.device
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    peak = f"{options.peak_tflops:g} TFLOPS" if options.peak_tflops else "n/a"
    return [
        f"# GPU benchmark{' (--tiny smoke test)' if options.tiny else ''}",
        "",
        f"- device: {name} ({device}); dense bf16 peak {peak} ({peak_source})",
        f"- torch {torch.__version__}, diffusers {diffusers.__version__}, "
        f"transformers {transformers.__version__}",
        f"- weights: {'tiny test models' if options.tiny else 'full size, random'}; "
        f"median of {options.repeats} timed call(s) after a {options.warmup_steps}-step warm-up",
        "- attention: diffusers' SDPA processors on both sides; CFG: cond and uncond in one "
        "denoiser call on both sides (diffusers batches them); engine options used: "
        "max_batch, torch_compile. Not engine options: channels_last, fused QKV.",
        "",
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "|".join(["---"] * len(COLUMNS)) + "|",
    ]


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="CPU smoke test with tiny models")
    parser.add_argument("--models", default="sd15,sdxl,zimage", help="comma-separated")
    parser.add_argument("--batches", default=None, help="default 1,4,8 (tiny: 1,2)")
    parser.add_argument(
        "--variants",
        default=",".join(DEFAULT_VARIANTS),
        help=f"comma-separated of {', '.join(VARIANTS)}",
    )
    parser.add_argument("--repeats", type=int, default=2, help="timed calls per row")
    parser.add_argument("--warmup-steps", type=int, default=2, help="steps of the warm-up call")
    parser.add_argument("--steps", type=int, default=None, help="override every model's steps")
    parser.add_argument("--size", type=int, default=None, help="override every image side")
    parser.add_argument(
        "--dtype",
        choices=["float32", "float16", "bfloat16"],
        default=None,
        help="override the engine's dtype (float16 SD 1.5/SDXL, bfloat16 Z-Image; CPU float32)",
    )
    parser.add_argument("--device", default=None, help="default cuda (tiny: cpu)")
    parser.add_argument("--peak-tflops", type=float, default=None, help="device peak override")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = default)")
    parser.add_argument(
        "--flops",
        action="store_true",
        help="only count the full-size denoisers' FLOPs on the meta device (no GPU needed)",
    )
    parser.add_argument(
        "--budget-s",
        type=float,
        default=480.0,
        help="rows not started by then are skipped (default 480: fits a 10-minute slot)",
    )
    parser.add_argument("--output", type=Path, default=None, help="also write the table here")
    args = parser.parse_args(argv)
    unknown = {*args.models.split(","), *args.variants.split(",")} - {*FULL_CASES, *VARIANTS}
    if unknown:
        parser.error(f"unknown model or variant: {', '.join(sorted(unknown))}")
    return args


def cases(args: argparse.Namespace) -> list[Case]:
    chosen = [FULL_CASES[name] for name in args.models.split(",")]
    if args.tiny:
        chosen = [replace(c, size=TINY_NATIVE[c.family], steps=TINY_STEPS) for c in chosen]
    if args.steps is not None:
        chosen = [replace(c, steps=args.steps) for c in chosen]
    if args.size is not None:
        chosen = [replace(c, size=args.size) for c in chosen]
    if args.dtype is not None:
        chosen = [replace(c, dtype=getattr(torch, args.dtype)) for c in chosen]
    return chosen


def _quiet() -> None:
    diffusers.utils.logging.set_verbosity_error()
    diffusers.utils.logging.disable_progress_bar()
    transformers.utils.logging.set_verbosity_error()  # type: ignore[no-untyped-call]
    transformers.utils.logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    # Random fp16 weights can overflow to NaN in the decoded pixels; timing is unaffected.
    warnings.filterwarnings("ignore", message=".*invalid value encountered in cast.*")


def run_benchmark(args: argparse.Namespace, table: Table) -> None:
    """Time every selected model, adding each row to ``table`` as it is measured."""
    device = torch.device(args.device or ("cpu" if args.tiny else "cuda"))
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit("no CUDA device here; --tiny runs the CPU smoke test, --flops counts")
    peak, peak_source = device_peak_tflops(device, args.peak_tflops)
    started = time.perf_counter()
    options = Options(
        device=device,
        tiny=args.tiny,
        batches=[int(b) for b in (args.batches or ("1,2" if args.tiny else "1,4,8")).split(",")],
        # Fixed order: engine+compile compiles the shared denoiser in place, so it runs last.
        variants=[v for v in VARIANTS if v in args.variants.split(",")],
        repeats=args.repeats,
        warmup_steps=args.warmup_steps,
        peak_tflops=peak,
        deadline=started + args.budget_s,
    )
    table.add(*header(options, peak_source))
    with tempfile.TemporaryDirectory() as scratch:
        for case in cases(args):
            if time.perf_counter() > options.deadline:
                break  # not even worth building the next model
            bench_case(case, options, Path(scratch), table)
    table.add("", f"Total wall time {time.perf_counter() - started:.0f} s.")


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    _quiet()
    table = Table(args.output)
    if args.flops:
        chosen = cases(argparse.Namespace(**{**vars(args), "tiny": False}))
        table.add(*flops_table(chosen, peak_tflops=args.peak_tflops or 989.0))
    else:
        run_benchmark(args, table)


if __name__ == "__main__":
    main()
