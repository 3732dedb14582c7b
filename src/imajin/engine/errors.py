"""Errors the engine raises, on top of :mod:`imajin.errors`.

Input mistakes stay :class:`~imajin.errors.InvalidInput` / :class:`~imajin.errors.NotFound`
(the caller can fix them); these add the engine's own cases.
"""

from __future__ import annotations

from imajin.errors import ImajinError, InvalidInput


class EngineError(ImajinError):
    """Base of the engine's own failures (a model that will not load, a broken file)."""

    code = "engine_error"


class ModelLoadError(EngineError):
    """A model's weights could not be loaded; the message says from where and why."""

    code = "model_load_failed"


class GenerationCancelled(EngineError):
    """The cancel flag was set; generation stopped between two denoising steps.

    Attributes:
        step: Steps finished (over all images) when the flag was seen.
        total: Steps the whole request would have taken.
    """

    code = "cancelled"

    def __init__(self, message: str = "generation was cancelled", *, step: int, total: int) -> None:
        super().__init__(message)
        self.step = step
        self.total = total


class IncompatibleLora(EngineError, InvalidInput):
    """A LoRA was made for another architecture than the model it was asked to modify.

    Attributes:
        lora: The LoRA's file name.
        lora_family: The architecture the LoRA was made for, when it can be told.
        model_family: The base model's architecture.
    """

    code = "incompatible_lora"

    def __init__(
        self,
        message: str,
        *,
        field: str,
        lora: str,
        lora_family: str | None,
        model_family: str,
    ) -> None:
        super().__init__(message, field=field)
        self.lora = lora
        self.lora_family = lora_family
        self.model_family = model_family
