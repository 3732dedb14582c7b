"""`imajin variation ...`: create a variation and watch it render, family by family."""

from __future__ import annotations

import time
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from imajin.cli.context import platform_from
from imajin.events.models import JobEvent
from imajin.imaging.sizes import FAMILY_NAMES
from imajin.store.migrate import upgrade
from imajin.variations.events import VariationEvent
from imajin.variations.repository import Variation
from imajin.variations.schemas import GenerationInput, VariationCreate
from imajin.wiring import Platform

app = typer.Typer(
    help="Create and inspect variations (one prompt → 30+ web images).", no_args_is_help=True
)

_FINISHED = {"complete", "partial", "failed"}


@app.command("create")
def create(  # noqa: PLR0917  # Typer maps each option to a parameter
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Slug: letters, digits, '_' and '-'.")],
    prompt: Annotated[str, typer.Option("--prompt", "-p", help="What to draw.")],
    families: Annotated[str, typer.Option(help="Comma-separated aspect families.")] = ",".join(
        FAMILY_NAMES
    ),
    model: Annotated[str, typer.Option(help="photorealistic, anime, a model id or a path.")] = (
        "photorealistic"
    ),
    category: Annotated[str, typer.Option(help="Free-form grouping.")] = "general",
    seed: Annotated[int | None, typer.Option(help="Seed (default: random).")] = None,
    steps: Annotated[int | None, typer.Option(min=1, max=100, help="Denoising steps.")] = None,
    negative: Annotated[str | None, typer.Option(help="Negative prompt.")] = None,
    wait: Annotated[bool, typer.Option(help="Render here and show progress until done.")] = True,
) -> None:
    """Queue a variation; with --wait (default) render it in this process with progress bars."""
    platform = platform_from(ctx)
    try:
        upgrade(platform.database)
        body = VariationCreate(
            name=name,
            category=category,
            families=[family.strip() for family in families.split(",") if family.strip()],
            generation=GenerationInput(
                prompt=prompt,
                seed=seed,
                model=model,
                negative_prompt=negative,
                inference_steps=steps,
            ),
        )
        if wait:
            platform.start()  # local workers in this process (or Celery workers elsewhere)
        variation = platform.variations.create(body, allow_paths=True)
        typer.echo(f"Queued variation {variation.name} ({variation.id}).", err=True)
        if wait:
            variation = _watch(platform, variation)
            _print(platform, variation)
            if variation.status == "failed":
                raise typer.Exit(code=1)
    finally:
        platform.close()


@app.command("show")
def show(
    ctx: typer.Context, name: Annotated[str, typer.Argument(help="The variation's name.")]
) -> None:
    """Status, parameters and every derivative with its URL."""
    platform = platform_from(ctx)
    try:
        _print(platform, platform.variations.by_name(name))
    finally:
        platform.close()


def _watch(platform: Platform, variation: Variation) -> Variation:
    """One progress bar per family, fed by the variation's job events."""
    columns = (
        TextColumn("{task.description:<10}"),
        BarColumn(),
        TextColumn("{task.fields[state]}"),
        TimeElapsedColumn(),
    )
    last_id = 0
    with Progress(*columns, console=Console(stderr=True)) as progress:
        bars: dict[str, TaskID] = {
            family: progress.add_task(family, total=1, state="waiting")
            for family in variation.families
        }
        while True:
            for event in platform.events.after(last_id, job_id=variation.job_id):
                last_id = event.id
                _advance(progress, bars, event.type, event.payload)
            current = platform.variations.get(variation.id)
            if current.status in _FINISHED:
                return current
            time.sleep(0.2)


def _advance(
    progress: Progress, bars: dict[str, TaskID], event_type: str, payload: dict[str, object]
) -> None:
    family = str(payload.get("family") or payload.get("familyName") or "")
    if event_type == JobEvent.PROGRESS and family in bars:
        step, total = int(str(payload["step"])), int(str(payload["total"]))
        per_family = max(total // len(bars), 1)
        done = step - int(str(payload.get("familyIndex", 0))) * per_family
        progress.update(bars[family], total=per_family, completed=done, state="generating")
    elif event_type == VariationEvent.FAMILY_COMPLETED and family in bars:
        task = progress.tasks[bars[family]]
        progress.update(bars[family], completed=task.total, state="done")
    elif event_type == VariationEvent.PARTIAL:
        failed_families = payload.get("familiesFailed")
        for failed in failed_families if isinstance(failed_families, list) else []:
            if failed in bars:
                progress.update(bars[failed], state="[red]failed")


def _print(platform: Platform, variation: Variation) -> None:
    console = Console()
    console.print(f"[bold]{variation.name}[/bold] ({variation.id}) — {variation.status}")
    if variation.error:
        console.print(f"[red]{variation.error}[/red]")
    public = platform.variations.public(variation)
    table = Table("derivative", "family", "size", "bytes", "url")
    for item in public.derivatives:
        table.add_row(
            item.derivative_name,
            item.family,
            f"{item.width}×{item.height}",
            str(item.file_size),
            item.public_url,
        )
    console.print(table)
