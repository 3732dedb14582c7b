"""Train a LoRA for an SD 1.5 or SDXL model on a folder of captioned images.

``train_lora`` reads as the steps it takes: check everything that needs no
weights (base family, data folder, device, resumable checkpoint), load the
base, cache latents and text embeddings, add the LoRA, run the loop with a
checkpoint every ``save_every`` steps, and write the LoRA file atomically.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import diffusers
import torch

from imajin.config.training import TrainingSettings
from imajin.engine.devices import release_memory, resolve_device
from imajin.engine.families import FamilyId, family_label
from imajin.engine.loaders import LOADERS
from imajin.engine.local_models import describe_local_model
from imajin.engine.spec import ModelSpec
from imajin.errors import ConfigError, InvalidInput
from imajin.training.checkpoints import Checkpoint, CheckpointStore, checkpoint_folder
from imajin.training.dataset import TrainingExample, dataset_digest, scan_dataset
from imajin.training.errors import TrainingCancelled, UnsupportedBase
from imajin.training.export import write_lora_file
from imajin.training.loop import TARGET_MODULES, LoraTrainer
from imajin.training.prepare import TEXT_ENCODERS, cache_training_data

logger = logging.getLogger(__name__)

# diffusers leaves its constructors untyped; use the class through Any.
_DDPM: Any = diffusers.DDPMScheduler

Phase = Literal["preparing", "training"]
# Settings that change what the next step computes; a checkpoint must agree on all of them.
_FINGERPRINTED = (
    "rank",
    "alpha",
    "dropout",
    "learning_rate",
    "lr_warmup_steps",
    "weight_decay",
    "max_grad_norm",
    "batch_size",
    "gradient_accumulation",
    "seed",
)


@dataclass(frozen=True)
class TrainingProgress:
    """Where a run is.

    Attributes:
        phase: ``preparing`` (encoding images; ``step`` counts images) or ``training``.
        step: Images encoded, or optimiser steps done.
        total: Images to encode, or ``max_steps``.
        loss: Mean loss of the last step (training only).
        message: One line for a progress display.
    """

    phase: Phase
    step: int
    total: int
    loss: float | None
    message: str


@dataclass(frozen=True)
class TrainingResult:
    """A finished run.

    Attributes:
        path: The LoRA file written.
        family: The base's family (``sd15`` / ``sdxl``).
        steps: Optimiser steps in the LoRA (``max_steps``).
        resumed_from: Step of the checkpoint this run started from (0: fresh).
        images: Training examples.
        final_loss: Loss of the last step run here (None when nothing was left to run).
        seconds: Wall time of the whole call.
        seconds_per_step: Mean time of the steps run here (None when none ran).
    """

    path: Path
    family: FamilyId
    steps: int
    resumed_from: int
    images: int
    final_loss: float | None
    seconds: float
    seconds_per_step: float | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields (a job's result)."""
        return {**asdict(self), "path": str(self.path)}


ProgressCallback = Callable[[TrainingProgress], None]
CancelCheck = Callable[[], bool]


def train_lora(
    *,
    data_dir: Path,
    base: ModelSpec | Path,
    output: Path,
    settings: TrainingSettings,
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
    resume: bool = True,
    offline: bool = True,
    cache_dir: Path | None = None,
) -> TrainingResult:
    """Train a LoRA on the images and captions in ``data_dir`` and write it to ``output``.

    Args:
        data_dir: Images with a ``.txt`` caption of the same stem each.
        base: The base model (a registry spec, or a local model folder / checkpoint).
        output: The ``.safetensors`` file to write; checkpoints go to
            ``<output stem>.checkpoints/`` beside it.
        settings: Rank, alpha, dropout, optimiser, steps, checkpoints, device.
        progress: Called while images are encoded and after every step; an
            exception it raises (a job's cancel) stops training, no file written.
        cancel: Polled before every step; True stops with :class:`TrainingCancelled`.
        resume: Continue from the newest checkpoint if there is one; False deletes
            the checkpoints and starts over.
        offline: Load the base only from local files / the HF cache.
        cache_dir: Hugging Face cache folder (None: its default).

    Raises:
        UnsupportedBase: The base is not SD 1.5 or SDXL.
        NotFound, TrainingDataError: The folder, an image or a caption is missing or bad.
        CheckpointMismatch: The checkpoint to resume from belongs to another run.
        InvalidInput: ``output`` is not a ``.safetensors`` path, or the device or mixed
            precision is not available on this machine.
        ModelLoadError: The base's weights are missing or unreadable.
        TrainingCancelled: ``cancel`` returned True (checkpoints written so far stay).
    """
    started = time.perf_counter()
    # 1. Check inputs: all cheap, so mistakes surface before any weights load.
    spec = base if isinstance(base, ModelSpec) else describe_local_model(base)
    _check_supported(spec)
    if output.suffix != ".safetensors":
        raise InvalidInput(
            f"output must be a .safetensors file; got {output.name!r}", field="output"
        )
    examples = scan_dataset(data_dir)
    side = settings.resolution or spec.native
    device = _training_device(settings.device)
    precision = _precision(settings.mixed_precision, device)
    fingerprint = _fingerprint(spec, settings, examples=examples, side=side)
    store = CheckpointStore(checkpoint_folder(output), keep=settings.keep_checkpoints)
    if not resume:
        store.clear()
    latest = store.latest() if resume else None
    if latest is not None:
        store.check(latest, fingerprint=fingerprint, max_steps=settings.max_steps)

    def report(phase: Phase, step: int, total: int, loss: float | None, message: str) -> None:
        if progress is not None:
            progress(TrainingProgress(phase, step, total, loss, message))

    with _forked_rng(device):
        # 2. Load the base and encode the data once (VAE and text encoders stay frozen).
        pipe = LOADERS[spec.family].load(
            spec, dtype=torch.float32, offline=offline, cache_dir=cache_dir
        )
        data = cache_training_data(
            pipe,
            family=spec.family,
            examples=examples,
            side=side,
            device=device,
            seed=settings.seed,
            on_image=lambda done, total: report(
                "preparing", done, total, None, f"encoding images {done}/{total}"
            ),
        )
        # 3. Add the LoRA to the UNet; the noise schedule is the base's own, for training.
        trainer = LoraTrainer(
            pipe.unet,
            data=data,
            noise_scheduler=_DDPM.from_config(
                pipe.scheduler.config, prediction_type=spec.prediction
            ),
            prediction=spec.prediction,
            settings=settings,
            device=device,
            precision=precision,
        )
        del pipe  # the VAE and text encoders are no longer needed: free their memory
        release_memory(device)
        start = _restore(trainer, store, latest, device)

        # 4. Train, checkpointing every `save_every` steps and at the end.
        loss: float | None = None
        loop_started = time.perf_counter()
        for step in range(start + 1, settings.max_steps + 1):
            if cancel is not None and cancel():
                raise TrainingCancelled(step=step - 1, total=settings.max_steps)
            loss = trainer.step(step)
            if step % settings.save_every == 0 or step == settings.max_steps:
                store.save(
                    step=step,
                    lora=trainer.lora_state(),
                    state=trainer.loop_state(),
                    fingerprint=fingerprint,
                    loss=loss,
                )
            report(
                "training",
                step,
                settings.max_steps,
                loss,
                f"step {step}/{settings.max_steps} loss {loss:.4f}",
            )
        ran = settings.max_steps - start
        loop_seconds = time.perf_counter() - loop_started

        # 5. Write the LoRA where the engine can load it.
        write_lora_file(
            output,
            layers=trainer.lora_state(),
            config=trainer.config,
            family=spec.family,
            training={**fingerprint, "steps": settings.max_steps, "images": len(examples)},
        )
    result = TrainingResult(
        path=output,
        family=spec.family,
        steps=settings.max_steps,
        resumed_from=start,
        images=len(examples),
        final_loss=loss,
        seconds=time.perf_counter() - started,
        seconds_per_step=loop_seconds / ran if ran else None,
    )
    logger.info(
        "trained LoRA %s on %s: %d images, steps %d-%d, %.3f s/step",
        output,
        spec.id,
        len(examples),
        start + 1,
        settings.max_steps,
        result.seconds_per_step or 0.0,
    )
    return result


def _check_supported(spec: ModelSpec) -> None:
    if spec.family not in TEXT_ENCODERS:
        supported = " and ".join(family_label(family) for family in TEXT_ENCODERS)
        raise UnsupportedBase(
            f"LoRA training supports {supported} base models; {spec.name!r} is "
            f"{family_label(spec.family)}. Choose an SD 1.5 or SDXL model as the base.",
            field="base",
        )


def _training_device(name: str) -> torch.device:
    try:
        return resolve_device(name)
    except ConfigError as exc:
        raise InvalidInput(
            f"training device {name!r} is not available here; set training.device "
            f"(or --device) to auto or cpu ({exc.message})",
            field="device",
        ) from exc


def _precision(setting: str, device: torch.device) -> torch.dtype | None:
    """The half dtype the frozen base runs in under autocast, or None for plain fp32."""
    if setting == "no" or (setting == "auto" and device.type != "cuda"):
        return None
    if device.type != "cuda":
        raise InvalidInput(
            f"mixed_precision {setting} needs a CUDA GPU, and this run is on {device}; "
            "use auto or no",
            field="mixed_precision",
        )
    if setting == "auto":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.bfloat16 if setting == "bf16" else torch.float16


def _fingerprint(
    spec: ModelSpec, settings: TrainingSettings, *, examples: list[TrainingExample], side: int
) -> dict[str, Any]:
    return {
        "base": spec.id,
        "family": spec.family,
        "prediction": spec.prediction,
        "resolution": side,
        "data": dataset_digest(examples),
        **settings.model_dump(include=set(_FINGERPRINTED)),
        "target_modules": list(TARGET_MODULES),
    }


@contextmanager
def _forked_rng(device: torch.device) -> Iterator[None]:
    """Let training seed and restore torch's global generators, and give the caller's back."""
    devices = [device.index or 0] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        yield


def _restore(
    trainer: LoraTrainer, store: CheckpointStore, latest: Checkpoint | None, device: torch.device
) -> int:
    if latest is None:
        return 0
    contents = store.load(latest, device=device)
    trainer.restore(contents.lora, contents.state)
    logger.info("resuming LoRA training from %s (step %d)", latest.path, latest.step)
    return latest.step
