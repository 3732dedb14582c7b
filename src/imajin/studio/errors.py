"""Errors of the batch studio."""

from __future__ import annotations

from typing import Any

from imajin.errors import ImajinError, InvalidInput, NotFound


class StudioError(ImajinError):
    """Base of every error the batch studio raises.

    Subclasses are also the generic error an HTTP client knows (``NotFound`` → 404 …)
    and keep its ``code``, so bodies do not change.
    """

    code = "studio_error"


class StudioNotFound(StudioError, NotFound):
    """No set, batch or LoRA file of that name."""

    code = NotFound.code


class StudioInvalidInput(StudioError, InvalidInput):
    """A studio request breaks a rule (theme too long, unknown model, bad default)."""

    code = InvalidInput.code


class SetInvalid(StudioError, InvalidInput):
    """A card set (YAML entry or CSV) breaks a rule; names the set, the row and the field.

    Attributes:
        set_name: The set at fault (or its file, when the name is unreadable).
        row: 1-based data row of the CSV (the header is row 0), when a row is at fault.
    """

    code = "set_invalid"

    def __init__(self, set_name: str, message: str, *, field: str, row: int | None = None) -> None:
        where = f"set {set_name!r}" + (f", row {row}" if row is not None else "")
        super().__init__(f"{where}, field `{field}`: {message}", field=field)
        self.set_name = set_name
        self.row = row

    def to_dict(self) -> dict[str, Any]:
        body = super().to_dict()
        body["set"] = self.set_name
        if self.row is not None:
            body["row"] = self.row
        return body
