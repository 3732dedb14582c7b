"""Resumable training checkpoints in ``<output stem>.checkpoints/`` beside the LoRA file.

A checkpoint is a folder ``step-0000300/`` holding the LoRA weights
(``lora.safetensors``), the optimiser, scaler and random-generator states
(``state.pt``, read back with ``weights_only=True``), and ``checkpoint.json``:
the step, the loss and a *fingerprint* of everything that decides what the
next steps compute (base model, data, settings). A run resumes only from a
checkpoint whose fingerprint equals its own, so a resumed run ends where an
uninterrupted one would. Folders are written under a temporary name and
renamed, so a crash mid-write never leaves a half checkpoint that looks whole.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from imajin.training.errors import CheckpointMismatch

LORA_FILE = "lora.safetensors"
STATE_FILE = "state.pt"
INFO_FILE = "checkpoint.json"
_NAME = re.compile(r"^step-(\d+)$")


def checkpoint_folder(output: Path) -> Path:
    """Where the checkpoints of a run writing ``output`` live (``style.safetensors`` →
    ``style.checkpoints/``)."""
    return output.with_suffix(".checkpoints")


@dataclass(frozen=True)
class Checkpoint:
    """One saved checkpoint.

    Attributes:
        path: Its folder.
        step: Optimiser steps done when it was written.
        fingerprint: What the run that wrote it was made of (see module docs).
        loss: Mean loss of its last step.
    """

    path: Path
    step: int
    fingerprint: dict[str, Any]
    loss: float | None


@dataclass(frozen=True)
class CheckpointContents:
    """What a checkpoint restores: LoRA tensors (PEFT keys) and the loop's other state."""

    lora: dict[str, torch.Tensor]
    state: dict[str, Any]


class CheckpointStore:
    """Writes, lists, checks and prunes the checkpoints of one output file.

    Args:
        folder: The checkpoint folder (see :func:`checkpoint_folder`).
        keep: How many of the newest checkpoints to keep; older ones are deleted.
    """

    def __init__(self, folder: Path, *, keep: int) -> None:
        self.folder = folder
        self.keep = keep

    def latest(self) -> Checkpoint | None:
        """The newest complete checkpoint, or None."""
        found = self._all()
        return found[-1] if found else None

    def clear(self) -> None:
        """Delete every checkpoint (a fresh start must not resume from a stale one later)."""
        if self.folder.is_dir():
            shutil.rmtree(self.folder)

    def check(self, checkpoint: Checkpoint, *, fingerprint: dict[str, Any], max_steps: int) -> None:
        """Refuse to resume from ``checkpoint`` unless it belongs to this run.

        Raises:
            CheckpointMismatch: It was made from other data, base or settings (each
                differing key is named), or it is already past ``max_steps``.
        """
        fix = f"pass --no-resume (job: resume false) to start over, or delete {self.folder}"
        differing = sorted(
            key
            for key in fingerprint.keys() | checkpoint.fingerprint.keys()
            if fingerprint.get(key) != checkpoint.fingerprint.get(key)
        )
        if differing:
            details = ", ".join(
                f"{key}: {checkpoint.fingerprint.get(key)!r} then, {fingerprint.get(key)!r} now"
                for key in differing
                if key != "data"
            )
            if "data" in differing:
                details = ", ".join(filter(None, ["the images or captions changed", details]))
            raise CheckpointMismatch(
                f"cannot resume from {checkpoint.path}: it was made with other settings "
                f"({details}). Use the same settings to resume, or {fix}",
                field="resume",
            )
        if checkpoint.step > max_steps:
            raise CheckpointMismatch(
                f"cannot resume from {checkpoint.path}: it is at step {checkpoint.step}, past "
                f"max_steps {max_steps}. Raise max_steps to at least {checkpoint.step}, or {fix}",
                field="max_steps",
            )

    def save(
        self,
        *,
        step: int,
        lora: dict[str, torch.Tensor],
        state: dict[str, Any],
        fingerprint: dict[str, Any],
        loss: float | None,
    ) -> Checkpoint:
        """Write the checkpoint of ``step`` atomically, then prune old ones."""
        target = self.folder / f"step-{step:07d}"
        scratch = self.folder / f".tmp-step-{step:07d}"
        shutil.rmtree(scratch, ignore_errors=True)
        scratch.mkdir(parents=True)
        save_file(lora, str(scratch / LORA_FILE))
        torch.save(state, scratch / STATE_FILE)
        info = {"step": step, "loss": loss, "fingerprint": fingerprint}
        (scratch / INFO_FILE).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
        if target.exists():
            shutil.rmtree(target)
        scratch.rename(target)
        for old in self._all()[: -self.keep]:
            shutil.rmtree(old.path)
        return Checkpoint(path=target, step=step, fingerprint=fingerprint, loss=loss)

    def load(self, checkpoint: Checkpoint, *, device: torch.device) -> CheckpointContents:
        """The tensors and loop state of ``checkpoint``, LoRA weights on ``device``."""
        lora = load_file(str(checkpoint.path / LORA_FILE), device=str(device))
        # weights_only: a checkpoint folder is data; it must not be able to run code.
        state = torch.load(checkpoint.path / STATE_FILE, map_location="cpu", weights_only=True)
        return CheckpointContents(lora=lora, state=state)

    def _all(self) -> list[Checkpoint]:
        if not self.folder.is_dir():
            return []
        found = []
        for path in self.folder.iterdir():
            match = _NAME.match(path.name)
            if match and (path / INFO_FILE).is_file():
                info = json.loads((path / INFO_FILE).read_text(encoding="utf-8"))
                found.append(
                    Checkpoint(
                        path=path,
                        step=int(match.group(1)),
                        fingerprint=dict(info.get("fingerprint", {})),
                        loss=info.get("loss"),
                    )
                )
        return sorted(found, key=lambda checkpoint: checkpoint.step)
