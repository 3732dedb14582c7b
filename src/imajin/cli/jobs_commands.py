"""`imajin jobs ...`: look at and cancel jobs in the store."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from imajin.cli.context import platform_from
from imajin.jobs.models import JobStatus

app = typer.Typer(help="List, show and cancel jobs.", no_args_is_help=True)


@app.command("list")
def list_jobs(
    ctx: typer.Context,
    status: Annotated[JobStatus | None, typer.Option(help="Only jobs in this state.")] = None,
    kind: Annotated[str | None, typer.Option(help="Only jobs of this kind.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 20,
) -> None:
    """The newest jobs first."""
    platform = platform_from(ctx)
    try:
        jobs, total = platform.jobs.page(status=status, kind=kind, limit=limit)
    finally:
        platform.close()
    table = Table(
        "id",
        "kind",
        "status",
        "progress",
        "attempts",
        "created",
        title=f"{len(jobs)} of {total} jobs",
    )
    for job in jobs:
        progress = f"{job.progress.step}/{job.progress.total}" if job.progress.total else "-"
        table.add_row(
            job.id,
            job.kind,
            job.status,
            progress,
            str(job.attempts),
            f"{job.created_at:%Y-%m-%d %H:%M:%S}",
        )
    Console().print(table)


@app.command("show")
def show(ctx: typer.Context, job_id: Annotated[str, typer.Argument(help="The job's id.")]) -> None:
    """Everything about one job, as JSON."""
    platform = platform_from(ctx)
    try:
        # The operator's look delivers nothing: deliver-once keys stay for the job's client.
        job = platform.jobs.get(job_id).without_undelivered()
    finally:
        platform.close()
    typer.echo(json.dumps(job.model_dump(mode="json"), indent=2))


@app.command("cancel")
def cancel(
    ctx: typer.Context, job_id: Annotated[str, typer.Argument(help="The job's id.")]
) -> None:
    """Cancel a queued job now, or a running one at its next step."""
    platform = platform_from(ctx)
    try:
        job = platform.jobs.cancel(job_id)
    finally:
        platform.close()
    state = "cancelled" if job.status == JobStatus.CANCELLED else "asked to stop"
    typer.echo(f"Job {job.id} {state}.")
