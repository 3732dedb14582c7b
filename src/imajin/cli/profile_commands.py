"""`imajin profile`: a selfie's face and features, and an avatar from them, written to a file."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Annotated, Any, get_args

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape

from imajin.cli.context import platform_from
from imajin.contracts.gateway import Accepted
from imajin.contracts.profile import (
    AvatarStyle,
    FaceReport,
    ProfileAnalyzeResponse,
    ProfileGenerateRequest,
    ProfileGenerateResponse,
)
from imajin.errors import ImajinError
from imajin.gateway.profile_service import ProfileService
from imajin.store.migrate import upgrade

STYLES: tuple[AvatarStyle, ...] = get_args(AvatarStyle)


def profile(  # noqa: PLR0917  # Typer maps each option to a parameter
    ctx: typer.Context,
    selfie: Annotated[Path, typer.Argument(help="The selfie: JPEG, PNG or WebP.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="PNG file to write.")] = Path(
        "avatar.png"
    ),
    style: Annotated[str | None, typer.Option(help="photorealistic or anime.")] = None,
    seed: Annotated[int | None, typer.Option(help="Seed (default: random).")] = None,
    features: Annotated[
        Path | None,
        typer.Option(help="JSON file of features to use instead of asking the vision model."),
    ] = None,
) -> None:
    """Detect the face in a selfie here, print its box, quality score and features, then
    write an avatar drawn from those features (an adult, through the character guard)."""
    chosen = _style(style)
    try:
        data = selfie.read_bytes()
    except OSError as exc:
        raise _fail(f"cannot read {selfie}: {exc.strerror}") from exc
    given = _features(features) if features is not None else None
    platform = platform_from(ctx)
    try:
        upgrade(platform.database)
        platform.start()  # the jobs run on this process's local workers
        if platform.profile is None:
            raise _fail("the gateway is not configured in this platform")
        analysis = _analyze(platform.profile, data)
        _print_face(analysis.face)
        found = given if given is not None else analysis.features
        if found is None:
            raise _fail(analysis.message or "no features were extracted")
        typer.echo(f"features: {json.dumps(found, ensure_ascii=False, sort_keys=True)}")
        avatar = _generate(platform.profile, found, style=chosen, seed=seed)
    except ImajinError as exc:
        raise _fail(exc.message) from exc
    finally:
        platform.close()
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_bytes(base64.b64decode(avatar.image_base64))
    typer.echo(f"prompt:   {avatar.prompt_used}")
    typer.echo(f"seed: {avatar.seed}")
    typer.echo(str(output))


def _analyze(profile: ProfileService, data: bytes) -> ProfileAnalyzeResponse:
    answer = profile.gateway.wait(profile.submit_analyze(data))
    if isinstance(answer, Accepted):
        raise _still_running(answer)
    return answer


def _generate(
    profile: ProfileService,
    features: dict[str, Any],
    *,
    style: AvatarStyle | None,
    seed: int | None,
) -> ProfileGenerateResponse:
    try:
        body = ProfileGenerateRequest(features=features, style=style, seed=seed)
    except ValidationError as exc:
        error = exc.errors()[0]
        raise _fail(f"--{'.'.join(str(p) for p in error['loc'])}: {error['msg']}") from exc
    answer = profile.gateway.wait(profile.submit_generate(body))
    if isinstance(answer, Accepted):
        raise _still_running(answer)
    return answer


def _print_face(face: FaceReport) -> None:
    box = face.box
    where = f"x={box.x} y={box.y} width={box.width} height={box.height}" if box else "none"
    typer.echo(f"face: {where}  quality: {face.quality_score:.3f}  found: {face.faces_found}")


def _features(path: Path) -> dict[str, Any]:
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise _fail(f"--features {path}: {exc}") from exc
    if not isinstance(loaded, dict):
        raise _fail(f"--features {path}: a JSON object of features is needed")
    return loaded


def _style(style: str | None) -> AvatarStyle | None:
    if style is None:
        return None
    for known in STYLES:
        if style == known:
            return known
    raise _fail(f"--style must be one of {', '.join(STYLES)} (got {style!r})")


def _still_running(accepted: Accepted) -> typer.Exit:
    return _fail(
        f"still running as job {accepted.job_id}: see `imajin jobs show {accepted.job_id}`"
    )


def _fail(message: str) -> typer.Exit:
    Console(stderr=True).print(f"[red]error:[/red] {escape(message)}", highlight=False)
    return typer.Exit(code=1)
