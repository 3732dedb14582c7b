"""Shapes several areas share: a page of items, the platform's health, and JSON's integers."""

from __future__ import annotations

from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

__all__ = ["HealthPublic", "Page", "StorageHealth", "WholeFloat"]

T = TypeVar("T")


def _whole_float_as_int(value: Any) -> Any:
    # Only 3.0 becomes an int here; 3.5, true and "3" reach the strict int as sent.
    return int(value) if isinstance(value, float) and value.is_integer() else value


WholeFloat = BeforeValidator(_whole_float_as_int)
"""Marks a ``StrictInt`` of a JSON request body that also takes ``3.0``, as JSON Schema's
``integer`` (what the OpenAPI document says) does; never ``true`` or ``"3"``, which
pydantic's lax mode would take. Written last, after the field's bounds::

    seed: Annotated[StrictInt | None, Field(ge=0), WholeFloat] = None

Bounds given after it (or ``Field(ge=...)`` on the field itself) would land on this
validator, and pydantic would write them into the schema as ``ge``, not ``minimum``.
Request bodies use ``StrictInt``, ``StrictFloat`` and ``StrictBool`` rather than
``strict=True`` on the model: FastAPI validates the parsed JSON as Python objects, where
strict mode would also refuse an enum's value and ask for the enum member."""


class Page(BaseModel, Generic[T]):
    """One page of a listing: its items, how many there are in all, and where it starts."""

    items: list[T]
    total: int
    limit: int
    offset: int


class StorageHealth(BaseModel):
    """What ``/health`` reports about storage."""

    model_config = ConfigDict(populate_by_name=True)

    # `alias` (not only a serialization alias) so a client reads back what the server wrote.
    base_path: str = Field(alias="basePath")
    exists: bool
    writable: bool


# ``GET /health``: the platform's state (a degraded platform answers 503 with this body).
# No docstring: it would become the schema's description in the OpenAPI document.
class HealthPublic(BaseModel):
    status: Literal["ok", "degraded"]
    service: str
    version: str
    database: Literal["ok", "unavailable"]
    storage: StorageHealth
    llm: dict[str, Any] | None = None
