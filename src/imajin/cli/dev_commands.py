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
