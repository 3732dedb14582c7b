"""``imajin dev``: developer tools — tiny random-weight models and LoRAs for tests and demos.

Register with ``app.add_typer(dev_commands.app, name="dev")``.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from imajin import testing  # lazy: torch and diffusers load when a command runs

app = typer.Typer(
    help=(
        "Developer tools. Build tiny random-weight pipelines of the real architectures "
        "(no download, under a second per image on a CPU) to try imajin or run its tests offline."
    ),
    no_args_is_help=True,
)


class Family(StrEnum):
    """Pipeline families a tiny model can be built for."""

    sd15 = "sd15"
    sdxl = "sdxl"
    sd3 = "sd3"
    zimage = "zimage"


@app.command(
    "tiny-model",
    help=(
        "Build a tiny random-weight pipeline folder that loads like a real model. "
        "The folder has model_index.json and one sub-folder per component (as written by "
        "diffusers' save_pretrained) plus an imajin.json card with the family and native size. "
        'Use it as a model: imajin generate --model DIRECTORY --prompt "a red fox".'
    ),
)
def tiny_model(
    directory: Annotated[
        Path, typer.Argument(help="Folder to write the pipeline into (created if missing).")
    ],
    family: Annotated[
        Family, typer.Option("--family", "-f", help="Architecture: sd15, sdxl, sd3 or zimage.")
    ] = Family.sd15,
    seed: Annotated[int, typer.Option(help="Torch seed for the random weights.")] = 0,
) -> None:
    """Build a tiny random-weight pipeline folder that loads like a real model."""
    path = testing.build_tiny_model(family.value, directory, seed=seed)
    native = testing.TINY_NATIVE[family.value]
    typer.echo(f"Tiny {family.value} pipeline written to {path} (native {native}x{native} px).")


@app.command(
    "tiny-lora",
    help=(
        "Build a random-weight PEFT LoRA for a tiny model, saved as one .safetensors file. "
        "It targets the attention projections of the base's UNet (or SD3 transformer) and "
        "visibly changes its images. Use it with: imajin generate --lora OUT:0.8 ..."
    ),
)
def tiny_lora(
    out: Annotated[Path, typer.Argument(help="The .safetensors file to write.")],
    base: Annotated[
        Path,
        typer.Option("--base", "-b", help="Tiny model folder made by `imajin dev tiny-model`."),
    ],
    family: Annotated[
        Family, typer.Option("--family", "-f", help="The base model's family.")
    ] = Family.sd15,
    rank: Annotated[int, typer.Option(min=1, help="LoRA rank.")] = 4,
    seed: Annotated[int, typer.Option(help="Torch seed for the LoRA weights.")] = 1,
) -> None:
    """Build a random-weight PEFT LoRA for a tiny model."""
    if not base.is_dir():
        raise typer.BadParameter(
            f"{base} is not a folder; build one first with `imajin dev tiny-model`.",
            param_hint="--base",
        )
    path = testing.build_tiny_lora(base, out, family=family.value, rank=rank, seed=seed)
    typer.echo(f"Tiny {family.value} LoRA (rank {rank}) written to {path}.")


@app.command(
    "openapi",
    help=(
        "Write the server's OpenAPI document (what GET /openapi.json answers with the "
        "shipped defaults) without starting a server."
    ),
)
def openapi(
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="File to write; default: standard output.")
    ] = None,
) -> None:
    """Write the OpenAPI document as JSON."""
    from imajin.codegen.openapi import openapi_json  # noqa: PLC0415  # builds the whole app

    text = openapi_json()
    if out is None:
        typer.echo(text, nl=False)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    typer.echo(f"OpenAPI document written to {out}.")


@app.command(
    "ts-client",
    help=(
        "Regenerate the TypeScript client's generated files (API types from the OpenAPI "
        "document, the negative prompt terms, the size matrix). With --check, change "
        "nothing and exit 1 when any of them is stale. Needs `npm ci` run in DIRECTORY."
    ),
)
def ts_client(
    directory: Annotated[Path, typer.Argument(help="The TypeScript client's folder.")] = Path(
        "clients/typescript"
    ),
    check: Annotated[
        bool, typer.Option("--check", help="Only report stale files (exit 1 if any).")
    ] = False,
) -> None:
    """Regenerate (or check) the TypeScript client's generated files."""
    from imajin.codegen import typescript  # noqa: PLC0415  # builds the whole app

    if not (directory / "package.json").is_file():
        raise typer.BadParameter(f"{directory} has no package.json.", param_hint="DIRECTORY")
    if check:
        stale = typescript.stale_files(directory)
        if stale:
            typer.secho(
                f"Stale generated files in {directory}: {', '.join(stale)}. "
                "Regenerate them with `make ts-client`.",
                fg="red",
                err=True,
            )
            raise typer.Exit(1)
        typer.echo(f"The generated files in {directory} are up to date.")
        return
    changed = typescript.write_generated(directory)
    typer.echo(f"Regenerated in {directory}: {', '.join(changed) if changed else 'no changes'}.")
