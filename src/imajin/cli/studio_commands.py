"""`imajin batch` and `imajin sets list|show`: the batch studio from the command line."""

from __future__ import annotations

import time
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from imajin.cli.context import platform_from
from imajin.events.models import JobEvent
from imajin.store.migrate import upgrade
from imajin.studio.errors import SetInvalid
from imajin.studio.repository import batch_status
from imajin.studio.schemas import BatchCreate, BatchCreated, BatchStatus
from imajin.wiring import Platform

sets_app = typer.Typer(help="List and inspect card sets (YAML + CSV).", no_args_is_help=True)

_ENDED = {BatchStatus.COMPLETE, BatchStatus.PARTIAL, BatchStatus.FAILED, BatchStatus.CANCELLED}


def register(app: typer.Typer) -> None:
    """Add the studio's commands to the root CLI."""
    app.command("batch")(batch)
    app.add_typer(sets_app, name="sets")


def batch(  # noqa: PLR0917  # Typer maps each option to a parameter
    ctx: typer.Context,
    set_name: Annotated[str, typer.Option("--set", "-s", help="Set name (`imajin sets list`).")],
    theme: Annotated[str, typer.Option("--theme", "-t", help="The look, e.g. 'art nouveau'.")] = "",
    seed: Annotated[int | None, typer.Option(help="Row i uses seed + i (default: random).")] = None,
    priority: Annotated[int, typer.Option(min=-100, max=100, help="Higher runs first.")] = 0,
    wait: Annotated[
        bool, typer.Option(help="Render here, with a progress bar, until every item is done.")
    ] = False,
) -> None:
    """Queue one image per row of a set; with --wait, render them in this process."""
    platform = platform_from(ctx)
    try:
        upgrade(platform.database)
        if wait:
            platform.start()  # local workers in this process (or Celery workers elsewhere)
        created = platform.studio.create_batch(
            BatchCreate(set_name=set_name, user_theme=theme, seed=seed, priority=priority)
        )
        typer.echo(
            f"Queued batch {created.batch_id}: {created.total} items of {created.set_name} "
            f"→ {platform.studio.outputs.root / created.output_dir}",
            err=True,
        )
        if not wait:
            typer.echo(created.batch_id)
            return
        status = _watch(platform, created)
        _print_items(platform, created.batch_id)
        if status in (BatchStatus.FAILED, BatchStatus.CANCELLED):
            raise typer.Exit(code=1)
    finally:
        platform.close()


@sets_app.command("list")
def list_sets(ctx: typer.Context) -> None:
    """Every set: name, item count, size, description; broken sets with their error."""
    platform = platform_from(ctx)
    try:
        loaded = platform.studio.sets.load()
        table = Table("set", "items", "size", "description")
        for card_set in sorted(loaded.sets.values(), key=lambda s: s.name):
            entry = card_set.entry
            table.add_row(
                entry.name,
                str(len(card_set.rows)),
                f"{entry.width}×{entry.height}",
                entry.description,
            )
        console = Console()
        console.print(table)
        for problem in loaded.problems.values():
            console.print(f"[red]not usable:[/red] {problem.message}")
    finally:
        platform.close()


@sets_app.command("show")
def show_set(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The set's name.")],
    theme: Annotated[
        str | None, typer.Option(help="Theme for the prompts (default: example).")
    ] = None,
) -> None:
    """A set's fields and the prompt every row will get."""
    platform = platform_from(ctx)
    try:
        try:
            card_set = platform.studio.sets.get(name)
        except SetInvalid as exc:
            typer.secho(f"error: {exc.message}", fg="red", err=True)
            raise typer.Exit(code=1) from None
        entry = card_set.entry
        used = entry.example_theme if theme is None else theme
        console = Console()
        console.print(f"[bold]{entry.name}[/bold] — {entry.description}")
        console.print(f"size {entry.width}×{entry.height}, source {card_set.source}")
        console.print(f"columns: {', '.join(card_set.columns)}")
        console.print(f"negative prompt: {entry.negative_prompt or '(platform default)'}")
        for lora in entry.loras:
            console.print(f"LoRA {lora.reference} × {lora.weight:g}")
        table = Table("#", "item", f"prompt (theme: {used!r})")
        for row in card_set.rows:
            table.add_row(str(row.index), row.item, card_set.prompt(row, used))
        console.print(table)
    finally:
        platform.close()


def _watch(platform: Platform, created: BatchCreated) -> BatchStatus:
    """An items bar and a bar for the item rendering now, fed by the batch's job events."""
    columns = (
        TextColumn("{task.description:<28}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    last_id = 0
    with Progress(*columns, console=Console(stderr=True)) as progress:
        items = progress.add_task(f"{created.set_name}: items", total=created.total)
        steps = progress.add_task("waiting", total=1)
        while True:
            for event in platform.events.after(last_id, subject=created.batch_id):
                last_id = event.id
                payload = event.payload
                if event.type == JobEvent.PROGRESS:
                    progress.update(
                        steps,
                        description=str(payload.get("item", ""))[:28],
                        total=int(payload["total"]),
                        completed=int(payload["step"]),
                    )
            counts = platform.studio.batch_counts(created.batch_id)
            ended = sum(counts[s] for s in ("succeeded", "failed", "cancelled"))
            progress.update(items, completed=ended)
            status = batch_status(counts, created.total)
            if status in _ENDED:
                return status
            time.sleep(0.2)


def _print_items(platform: Platform, batch_id: str) -> None:
    console = Console()
    table = Table("#", "item", "status", "file")
    for job in platform.studio.batch_jobs(batch_id):
        result = job.result or {}
        where = str(platform.studio.outputs.root / result["image"]) if "image" in result else ""
        detail = where or (job.error.message if job.error else "")
        table.add_row(str(job.params.get("index")), str(job.params.get("item")), job.status, detail)
    console.print(table)
