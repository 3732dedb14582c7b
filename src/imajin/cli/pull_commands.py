"""``imajin models pull ID``: fetch a manifest model into the Hugging Face cache."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from imajin.cli.context import settings_from
from imajin.wiring import build_models


def pull(
    ctx: typer.Context,
    model_id: Annotated[str, typer.Argument(metavar="ID", help="A manifest model id.")],
) -> None:
    """Download a model's hub repo into the Hugging Face cache (resumes partial files)."""
    from imajin.engine.pull import PullProgress, hub_endpoint, pull_model  # noqa: PLC0415

    settings = settings_from(ctx)
    spec = build_models(settings).get(model_id, allow_paths=False)
    console = Console(stderr=True)
    console.print(f"Pulling {escape(spec.id)} ({escape(spec.source)}) from {hub_endpoint()}")
    columns = (
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task(spec.id, total=None)

        def on_progress(update: PullProgress) -> None:
            described = f"{spec.id} [{update.files_done}/{update.files_total}] {update.file}"
            bar.update(
                task,
                completed=update.done_bytes,
                total=update.total_bytes,
                description=escape(described),
            )

        result = pull_model(spec, cache_dir=settings.engine.cache_dir, on_progress=on_progress)
    typer.echo(
        f"{spec.id}: {len(result.files)} files, {result.total_bytes} bytes at commit "
        f"{result.commit} in {result.snapshot}"
    )
