"""CLI commands over the engine: ``generate``, ``inspect`` and ``models list``.

The engine comes from the composition root when a command runs (torch loads
then), so ``--help`` stays instant.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, TimeElapsedColumn
from rich.progress import Progress as ProgressBar
from rich.table import Table

from imajin.cli import pull_commands
from imajin.cli.context import engine_from
from imajin.engine.metadata import format_parameters, read_metadata
from imajin.engine.parameters import GenerationParameters
from imajin.engine.request import GenerationRequest, parse_request
from imajin.engine.schedulers import SCHEDULER_NAMES
from imajin.errors import ImajinError

if TYPE_CHECKING:  # the engine pulls in torch; commands import it only when they run
    from imajin.engine.engine import Engine
    from imajin.engine.generate import Progress

_IMAGE_SUFFIXES = (".png", ".webp")


def parse_lora_option(value: str) -> dict[str, Any]:
    """``PATH:WEIGHT`` (or ``ID:WEIGHT``, or just ``PATH``) → a LoRA request mapping."""
    reference, weight = value, 1.0
    head, sep, tail = value.rpartition(":")
    if sep and head:
        try:
            weight = float(tail)
            reference = head
        except ValueError:
            pass  # a colon that is part of the path (C:\\...)
    is_path = reference.endswith(".safetensors") or "/" in reference or "\\" in reference
    return {"path" if is_path else "id": reference, "weight": weight}


def output_paths(output: Path, *, seeds: list[int]) -> list[Path]:
    """Where each image goes: ``x.png`` (``x-1.png`` ... for several) or files in a folder."""
    if output.suffix.lower() in _IMAGE_SUFFIXES:
        if len(seeds) == 1:
            return [output]
        return [
            output.with_name(f"{output.stem}-{i + 1}{output.suffix}") for i in range(len(seeds))
        ]
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return [output / f"{stamp}-{seed}.png" for seed in seeds]


def build_request(
    *, base: GenerationParameters | None, options: dict[str, Any]
) -> GenerationRequest:
    """The request: parameters read with ``--from`` (if any) overridden by given options."""
    data: dict[str, Any] = base.to_request().model_dump() if base is not None else {}
    data.update({key: value for key, value in options.items() if value is not None})
    return parse_request(data)


def _fail(exc: ImajinError) -> typer.Exit:
    Console(stderr=True).print(f"[red]error:[/red] {escape(exc.message)}", highlight=False)
    return typer.Exit(code=1)


def _print_parameters(console: Console, params: GenerationParameters) -> None:
    table = Table(show_header=False, box=None)
    for key, value in params.model_dump(exclude={"loras", "schema_"}).items():
        table.add_row(f"[bold]{key}[/bold]", escape(str(value)))
    for lora in params.loras:
        table.add_row("[bold]lora[/bold]", escape(f"{lora.name} x{lora.weight:g} ({lora.path})"))
    console.print(table)


def register(app: typer.Typer) -> None:
    """Add ``generate``, ``inspect`` and ``models list`` to ``app`` (the root app)."""
    app.command("generate", help=GENERATE_HELP)(generate)
    app.command("inspect", help="Show the generation parameters stored in an image.")(inspect)
    app.add_typer(models_app, name="models")


GENERATE_HELP = (
    "Generate images from a prompt and save them with their parameters embedded. "
    "Unset options take the model's defaults. --from FILE repeats an earlier image "
    "(any option given overrides the file's value)."
)


# Typer maps each option to a parameter, hence the long positional list.
def generate(  # noqa: PLR0917
    ctx: typer.Context,
    prompt: Annotated[str | None, typer.Option("--prompt", "-p", help="What to draw.")] = None,
    negative: Annotated[
        str | None, typer.Option("--negative", help="Negative prompt (default: platform's).")
    ] = None,
    model: Annotated[
        str | None,
        typer.Option("--model", "-m", help="photorealistic, anime, a model id, or a path."),
    ] = None,
    lora: Annotated[
        list[str] | None,
        typer.Option("--lora", help="PATH:WEIGHT or ID:WEIGHT; repeat to stack LoRAs."),
    ] = None,
    width: Annotated[int | None, typer.Option(help="Width in pixels (multiple of 8).")] = None,
    height: Annotated[int | None, typer.Option(help="Height in pixels (multiple of 8).")] = None,
    steps: Annotated[int | None, typer.Option(help="Denoising steps (1-100).")] = None,
    guidance: Annotated[float | None, typer.Option(help="CFG scale (1-20).")] = None,
    seed: Annotated[int | None, typer.Option(help="Seed; image i uses seed + i.")] = None,
    scheduler: Annotated[
        str | None, typer.Option(help=f"Sampler: {', '.join(SCHEDULER_NAMES)}.")
    ] = None,
    num_images: Annotated[
        int | None, typer.Option("--num-images", "-n", help="How many images.")
    ] = None,
    output: Annotated[
        Path, typer.Option("--output", "-o", help="A .png/.webp file, or a folder.")
    ] = Path("outputs"),
    from_file: Annotated[
        Path | None,
        typer.Option("--from", help="Image or .json sidecar whose parameters to reuse."),
    ] = None,
) -> None:
    options: dict[str, Any] = {
        "prompt": prompt,
        "negative_prompt": negative,
        "model": model,
        "width": width,
        "height": height,
        "steps": steps,
        "guidance": guidance,
        "seed": seed,
        "scheduler": scheduler,
        "num_images": num_images,
        "loras": [parse_lora_option(v) for v in lora] if lora else None,
    }
    if from_file is None and prompt is None:
        raise typer.BadParameter("give --prompt (or --from FILE)", param_hint="--prompt")
    try:
        base = read_metadata(from_file) if from_file is not None else None
        request = build_request(base=base, options=options)
        saved = _generate_and_save(engine_from(ctx), request, output=output)
    except ImajinError as exc:
        raise _fail(exc) from None
    for path in saved:
        typer.echo(str(path))


def inspect(
    file: Annotated[Path, typer.Argument(help="A PNG/WebP image or its .json sidecar.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    a1111: Annotated[
        bool, typer.Option("--a1111", help="Print the A1111-style parameters text.")
    ] = False,
) -> None:
    """Show the generation parameters stored in an image."""
    try:
        params = read_metadata(file)
    except ImajinError as exc:
        raise _fail(exc) from None
    if as_json:
        typer.echo(params.model_dump_json(by_alias=True, indent=2))
    elif a1111:
        typer.echo(format_parameters(params))
    else:
        _print_parameters(Console(), params)


models_app = typer.Typer(help="Models the engine knows.", no_args_is_help=True)
models_app.command("pull")(pull_commands.pull)


@models_app.command("list", help="List models: id, style, family, status, loaded, device.")
def list_models(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    statuses = engine_from(ctx).list_models()
    if as_json:
        typer.echo(json.dumps([status.__dict__ for status in statuses], indent=2))
        return
    table = Table()
    table.add_column("id", no_wrap=True)  # ids are what users copy; never cut them
    for header in ("style", "family", "status", "loaded", "device"):
        table.add_column(header, overflow="fold")
    for s in statuses:
        loaded = "[green]yes[/green]" if s.loaded else "no"
        row = (s.id, s.style, s.family, s.status)
        table.add_row(*(escape(v) for v in row), loaded, escape(s.device))
    Console().print(table)


def _generate_and_save(engine: Engine, request: GenerationRequest, *, output: Path) -> list[Path]:
    plan = engine.plan(request)  # fills in the seed so file names can use it
    seeds = [plan.seed_of(i) for i in range(request.num_images)]
    request = request.model_copy(update={"seed": plan.seed})
    with ProgressBar(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        transient=True,
    ) as bar:
        task = bar.add_task(f"{plan.spec.name}", total=request.num_images * plan.steps)

        def on_progress(progress: Progress) -> None:
            bar.update(task, completed=progress.step, total=progress.total)

        result = engine.generate(request, progress=on_progress)
    paths = output_paths(output, seeds=seeds)
    return [engine.save(image, path) for image, path in zip(result.images, paths, strict=True)]
