"""`imajin chat`: one chat image through the gateway's flow, written to a file."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Annotated, get_args

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from imajin.cli.context import platform_from
from imajin.contracts.gateway import Accepted, ChatImageRequest, ChatImageResponse, ChatKind
from imajin.errors import ImajinError
from imajin.store.migrate import upgrade
from imajin.wiring import Platform

KINDS: tuple[ChatKind, ...] = get_args(ChatKind)


def chat(  # noqa: PLR0917  # Typer maps each option to a parameter
    ctx: typer.Context,
    message: Annotated[str, typer.Argument(help="The chat message the picture illustrates.")],
    kind: Annotated[str, typer.Option(help="Endpoint: 1to1, shorts or scenes.")] = "shorts",
    output: Annotated[Path, typer.Option("--output", "-o", help="PNG file to write.")] = Path(
        "chat.png"
    ),
    seed: Annotated[int | None, typer.Option(help="Seed (default: random).")] = None,
    width: Annotated[int | None, typer.Option(help="Width, a multiple of 8.")] = None,
    height: Annotated[int | None, typer.Option(help="Height, a multiple of 8.")] = None,
    model: Annotated[str | None, typer.Option(help="Model id, style or local path.")] = None,
) -> None:
    """Run the chat flow here (shorten → expand → block → generate → check → caption);
    write the image and print its caption and the prompt used."""
    chat_kind = _kind(kind)
    try:
        body = ChatImageRequest(message=message, seed=seed, width=width, height=height, model=model)
    except ValidationError as exc:
        error = exc.errors()[0]
        raise _fail(f"--{'-'.join(str(p) for p in error['loc'])}: {error['msg']}") from exc
    platform = platform_from(ctx)
    try:
        upgrade(platform.database)
        platform.start()  # the job runs on this process's local workers
        result = _run(platform, chat_kind, body)
    except ImajinError as exc:
        raise _fail(exc.message) from exc
    finally:
        platform.close()
    if isinstance(result, Accepted):
        raise _fail(f"still running as job {result.job_id}: see `imajin jobs show {result.job_id}`")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_bytes(base64.b64decode(result.image_base64))
    typer.echo(f"caption: {result.caption}")
    typer.echo(f"prompt:  {result.prompt_used}")
    typer.echo(
        f"seed: {result.seed}  model: {result.model}  policy: {result.policy.endpoint_policy}"
    )
    typer.echo(str(output))


def _kind(kind: str) -> ChatKind:
    for known in KINDS:
        if kind == known:
            return known
    raise _fail(f"--kind must be one of {', '.join(KINDS)} (got {kind!r})")


def _run(
    platform: Platform, kind: ChatKind, body: ChatImageRequest
) -> ChatImageResponse | Accepted:
    if platform.gateway is None:
        raise _fail("the gateway is not configured in this platform")
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        progress.add_task(f"{kind}: shorten → expand → generate → check → caption", total=None)
        return platform.gateway.chat_image(kind, body, allow_paths=True)


def _fail(message: str) -> typer.Exit:
    Console(stderr=True).print(f"[red]error:[/red] {escape(message)}", highlight=False)
    return typer.Exit(code=1)
