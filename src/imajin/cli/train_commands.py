"""`imajin train-lora`: train a LoRA on a folder of captioned images, with a progress bar.

Register on the root app with ``app.command("train-lora")(train_commands.train_lora)``.
Torch loads only when the command runs, so ``--help`` stays instant.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from imajin.cli.context import settings_from
from imajin.config.settings import Settings
from imajin.config.training import TrainingSettings
from imajin.engine.spec import ModelSpec
from imajin.errors import ImajinError
from imajin.wiring import build_models

if TYPE_CHECKING:  # the trainer pulls in torch; the command imports it only when it runs
    from imajin.training.trainer import TrainingProgress, TrainingResult


def train_lora(  # noqa: PLR0917  # Typer maps each option to a parameter
    ctx: typer.Context,
    data: Annotated[
        Path,
        typer.Option(
            "--data",
            help="Folder of training images, each with a caption file of the same name "
            "(photo.png + photo.txt).",
        ),
    ],
    base: Annotated[
        str,
        typer.Option(
            "--base",
            help="Base model: an SD 1.5 or SDXL model id, a style, or a local model folder "
            "or .safetensors checkpoint.",
        ),
    ],
    output: Annotated[
        Path,
        typer.Option(
            "--output",
            "-o",
            help="LoRA file to write (.safetensors); checkpoints go to <name>.checkpoints/ "
            "beside it.",
        ),
    ],
    rank: Annotated[int | None, typer.Option(min=1, max=256, help="LoRA rank.")] = None,
    alpha: Annotated[
        int | None, typer.Option(min=1, help="LoRA alpha (update scaled by alpha/rank).")
    ] = None,
    dropout: Annotated[
        float | None, typer.Option(min=0.0, max=0.99, help="Dropout on the LoRA branch.")
    ] = None,
    learning_rate: Annotated[
        float | None, typer.Option("--learning-rate", "--lr", min=0.0, help="AdamW rate.")
    ] = None,
    max_steps: Annotated[int | None, typer.Option(min=1, help="Optimiser steps in all.")] = None,
    save_every: Annotated[
        int | None, typer.Option(min=1, help="Checkpoint every this many steps.")
    ] = None,
    resolution: Annotated[
        int | None,
        typer.Option(min=64, max=2048, help="Training side in pixels (multiple of 8)."),
    ] = None,
    seed: Annotated[int | None, typer.Option(min=0, help="Seed of init, noise, order.")] = None,
    batch_size: Annotated[int | None, typer.Option(min=1, help="Images per pass.")] = None,
    gradient_accumulation: Annotated[
        int | None, typer.Option(min=1, help="Passes per optimiser step.")
    ] = None,
    mixed_precision: Annotated[
        str | None, typer.Option(help="auto, no, fp16 or bf16 (fp16/bf16 need CUDA).")
    ] = None,
    device: Annotated[str | None, typer.Option(help="auto, cpu, cuda, cuda:N or mps.")] = None,
    resume: Annotated[
        bool,
        typer.Option("--resume/--no-resume", help="Continue from the newest checkpoint."),
    ] = True,
) -> None:
    """Train a LoRA for an SD 1.5 or SDXL model on a folder of captioned images.

    Options left unset take the `training:` section of the configuration. Stop
    with Ctrl-C at any time and run the same command again to continue from
    the last checkpoint. The LoRA works with `imajin generate --lora FILE:0.8`.
    """
    settings = settings_from(ctx)
    given = {
        "rank": rank,
        "alpha": alpha,
        "dropout": dropout,
        "learning_rate": learning_rate,
        "max_steps": max_steps,
        "save_every": save_every,
        "resolution": resolution,
        "seed": seed,
        "batch_size": batch_size,
        "gradient_accumulation": gradient_accumulation,
        "mixed_precision": mixed_precision,
        "device": device,
    }
    training = _training_settings(settings, {k: v for k, v in given.items() if v is not None})
    try:
        spec = build_models(settings).resolve(base, allow_paths=True)
        result = _train(
            data=data,
            spec=spec,
            output=output,
            training=training,
            resume=resume,
            settings=settings,
        )
    except ImajinError as exc:
        raise _fail(exc.message) from exc
    loss = f", final loss {result.final_loss:.4f}" if result.final_loss is not None else ""
    Console(stderr=True).print(
        f"Saved LoRA [bold]{escape(str(result.path))}[/bold] ({result.steps} steps on "
        f"{result.images} images{loss}, {result.seconds:.1f} s). Use it with: imajin generate "
        f"--model {escape(base)} --lora {escape(str(result.path))}:0.8 --prompt ...",
        highlight=False,
    )


def _training_settings(settings: Settings, given: dict[str, Any]) -> TrainingSettings:
    try:
        return TrainingSettings.model_validate({**settings.training.model_dump(), **given})
    except ValidationError as exc:
        error = exc.errors()[0]
        option = "--" + "-".join(str(part) for part in error["loc"]).replace("_", "-")
        raise _fail(f"{option}: {error['msg']}") from exc


def _train(
    *,
    data: Path,
    spec: ModelSpec,
    output: Path,
    training: TrainingSettings,
    resume: bool,
    settings: Settings,
) -> TrainingResult:
    from imajin.training.checkpoints import (  # noqa: PLC0415
        CheckpointStore,
        checkpoint_folder,
    )
    from imajin.training.trainer import train_lora as run  # noqa: PLC0415  # torch

    columns = (
        TextColumn("{task.description:<18}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[loss]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    console = Console(stderr=True)
    with Progress(*columns, console=console) as bar:
        task = bar.add_task("loading model", total=None, loss="")
        try:
            return run(
                data_dir=data,
                base=spec,
                output=output,
                settings=training,
                progress=lambda update: _show(bar, task, update),
                resume=resume,
                offline=settings.engine.offline,
                cache_dir=settings.engine.cache_dir,
            )
        except KeyboardInterrupt:
            bar.stop()
            store = CheckpointStore(checkpoint_folder(output), keep=training.keep_checkpoints)
            latest = store.latest()
            where = f"step {latest.step} ({latest.path})" if latest else "the start"
            console.print(
                f"Stopped. Run the same command again to continue from {escape(where)}.",
                highlight=False,
            )
            raise typer.Exit(code=130) from None


def _show(bar: Progress, task: TaskID, update: TrainingProgress) -> None:
    if update.phase == "preparing":
        bar.update(task, description="encoding images", completed=update.step, total=update.total)
    else:
        loss = f"loss {update.loss:.4f}" if update.loss is not None else ""
        bar.update(
            task, description="training", completed=update.step, total=update.total, loss=loss
        )


def _fail(message: str) -> typer.Exit:
    Console(stderr=True).print(f"[red]error:[/red] {escape(message)}", highlight=False)
    return typer.Exit(code=1)
