"""Shapes several areas share: a page of items, and the platform's health."""

from __future__ import annotations

from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["HealthPublic", "Page", "StorageHealth"]

T = TypeVar("T")


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
