"""List the LoRAs a request may name by id, with the architecture their header declares.

The listing shows exactly what an HTTP request can use: each top-level
``.safetensors`` file of the LoRA folders, found by the same rule that resolves
``loras[].id`` (first folder wins; a symlink out of its folder is not there). Headers
are read as JSON (a few kilobytes, no torch), so listing never loads a tensor.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from imajin.contracts.loras import LoraPublic
from imajin.engine.confined import LORA_SUFFIX, confined_lora
from imajin.engine.families import family_label
from imajin.engine.lora_header import detect_family, holds_lora_weights, read_header_json
from imajin.engine.registry import ModelRegistry
from imajin.engine.request import LoraRequest
from imajin.engine.spec import ModelSpec
from imajin.errors import InvalidInput

logger = logging.getLogger(__name__)


class LoraCatalog:
    """The LoRA folders, read on each call (a trained or copied-in LoRA shows at once).

    Args:
        lora_dirs: Folders searched for LoRA ids, in the engine's order.
        models: The model registry, to check a LoRA against a model id.
    """

    def __init__(self, *, lora_dirs: Sequence[Path], models: ModelRegistry) -> None:
        self._dirs = list(lora_dirs)
        self._models = models

    @property
    def lora_dirs(self) -> list[Path]:
        return list(self._dirs)

    def list_loras(self, *, model: str | None = None) -> list[LoraPublic]:
        """Every usable LoRA, by id; with ``model``, whether each fits it.

        Raises:
            NotFound: ``model`` is neither a style nor a known model id.
        """
        spec = self._models.resolve(model, allow_paths=False) if model is not None else None
        listed: list[LoraPublic] = []
        for lora_id in self._ids():
            entry = self._describe(lora_id, spec)
            if entry is not None:
                listed.append(entry)
        return listed

    def _ids(self) -> list[str]:
        ids: set[str] = set()
        for folder in self._dirs:
            try:
                names = [p.name for p in folder.iterdir()]
            except OSError:  # a configured folder that is missing or unreadable lists nothing
                continue
            ids.update(
                name.removesuffix(LORA_SUFFIX) for name in names if name.endswith(LORA_SUFFIX)
            )
        return sorted(ids)

    def _describe(self, lora_id: str, spec: ModelSpec | None) -> LoraPublic | None:
        try:
            request = LoraRequest(id=lora_id)
        except ValueError:  # a file name no request could send as an id
            return None
        path = confined_lora(request, lora_dirs=self._dirs)
        if path is None:  # e.g. a symlink pointing out of its folder
            return None
        try:
            header = read_header_json(path, field="lora")
        except InvalidInput as exc:
            logger.warning("LoRA folder: skipping %s: %s", path, exc)
            return None
        if not holds_lora_weights(header):  # a base checkpoint kept in data/models
            return None
        family = detect_family(header)
        entry = LoraPublic(
            id=lora_id,
            file=f"{lora_id}{LORA_SUFFIX}",
            size_bytes=path.stat().st_size,
            architecture=family,
            architecture_label=family_label(family) if family is not None else None,
        )
        if spec is None:
            return entry
        fits = family is None or family == spec.family
        model = f"model {spec.id!r} is {family_label(spec.family)}"
        reason = None if fits else f"made for {family_label(family)}; {model}"
        return entry.model_copy(update={"compatible": fits, "reason": reason})
