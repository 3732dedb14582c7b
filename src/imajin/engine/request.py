"""What a caller asks the engine for, validated before any model is touched.

The request models are the HTTP contract's (:mod:`imajin.contracts.generation`);
this module adds the server's parsing, which raises :class:`~imajin.errors.InvalidInput`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, get_args

from pydantic import ValidationError

from imajin.contracts.generation import (
    MAX_IMAGES,
    MAX_LORA_WEIGHT,
    MAX_LORAS,
    MAX_PROMPT,
    MAX_SEED,
    MAX_SIDE,
    GenerationRequest,
    LoraRequest,
    SchedulerName,
)
from imajin.errors import InvalidInput

__all__ = [
    "MAX_IMAGES",
    "MAX_LORAS",
    "MAX_LORA_WEIGHT",
    "MAX_PROMPT",
    "MAX_SEED",
    "MAX_SIDE",
    "SCHEDULER_CHOICES",
    "GenerationRequest",
    "LoraRequest",
    "SchedulerName",
    "field_path",
    "invalid_input_from",
    "parse_request",
]


def field_path(loc: tuple[int | str, ...]) -> str:
    """A pydantic error location as a path: ``("loras", 0, "weight")`` → ``loras[0].weight``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def invalid_input_from(exc: ValidationError, *, prefix: str = "") -> InvalidInput:
    """The first error of a pydantic ``ValidationError`` as an :class:`InvalidInput`."""
    errors = exc.errors()
    first = errors[0]
    loc = (prefix, *first["loc"]) if prefix else tuple(first["loc"])
    path = field_path(loc) or "request"
    message = first["msg"].removeprefix("Value error, ")
    more = f" ({len(errors) - 1} more problem(s) after this one)" if len(errors) > 1 else ""
    return InvalidInput(f"{path}: {message}{more}", field=path)


def parse_request(data: Mapping[str, Any]) -> GenerationRequest:
    """Validate an untrusted generation request.

    Raises:
        InvalidInput: Naming the first field at fault and the rule it breaks.
    """
    try:
        return GenerationRequest.model_validate(dict(data))
    except ValidationError as exc:
        raise invalid_input_from(exc) from None


SCHEDULER_CHOICES: tuple[str, ...] = get_args(SchedulerName)
