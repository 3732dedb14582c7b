"""The variations endpoints (SPEC §3.2): create, look up, list, regenerate, delete, images."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from imajin.client.call import (
    Call,
    Query,
    body,
    json_as,
    no_content,
    raw_bytes,
    segment,
    validated,
)
from imajin.contracts.variations import (
    FamilyPublic,
    MlHealth,
    ModelPublic,
    RegenerateRequest,
    VariationCreate,
    VariationPage,
    VariationPublic,
)

__all__ = [
    "create_variation",
    "delete_variation",
    "get_derivative",
    "get_variation",
    "get_variation_by_name",
    "list_families",
    "list_models",
    "list_variations",
    "ml_health",
    "regenerate_variation",
]

_BASE = "/api/images"


def create_variation(request: VariationCreate | Mapping[str, Any]) -> Call[VariationPublic]:
    """``POST /api/images/variations``: queue a variation; 202 with its job id.

    A mapping is validated against :class:`VariationCreate` before anything is sent.
    """
    payload = body(validated(VariationCreate, request))
    return Call("POST", f"{_BASE}/variations", json_as(VariationPublic), json=payload, ok=(202,))


def get_variation(variation_id: str) -> Call[VariationPublic]:
    """``GET /api/images/variations/{id}``."""
    return Call("GET", f"{_BASE}/variations/{segment(variation_id)}", json_as(VariationPublic))


def get_variation_by_name(name: str) -> Call[VariationPublic]:
    """``GET /api/images/variations/name/{name}``."""
    return Call("GET", f"{_BASE}/variations/name/{segment(name)}", json_as(VariationPublic))


def list_variations(
    *, category: str | None = None, limit: int = 50, offset: int = 0
) -> Call[VariationPage]:
    """``GET /api/images/variations``: newest first, optionally of one category."""
    params: Query = {"limit": limit, "offset": offset}
    if category is not None:
        params["category"] = category
    return Call("GET", f"{_BASE}/variations", json_as(VariationPage), params=params)


def regenerate_variation(variation_id: str, *, new_seed: bool = False) -> Call[VariationPublic]:
    """``POST /api/images/variations/{id}/regenerate``: queue it again; 202."""
    return Call(
        "POST",
        f"{_BASE}/variations/{segment(variation_id)}/regenerate",
        json_as(VariationPublic),
        json=body(RegenerateRequest(new_seed=new_seed)),
        ok=(202,),
    )


def delete_variation(variation_id: str) -> Call[None]:
    """``DELETE /api/images/variations/{id}``: the variation and its files; 204."""
    return Call("DELETE", f"{_BASE}/variations/{segment(variation_id)}", no_content, ok=(204,))


def get_derivative(
    variation_name: str, derivative_name: str, *, version: str | None = None
) -> Call[bytes]:
    """``GET /api/images/{variation}/{derivative}``: the WebP bytes.

    Args:
        variation_name: The variation's name.
        derivative_name: A derivative name (``og-image``, ...).
        version: The ``v`` of the derivative's ``publicUrl``, for the immutable copy.
    """
    params: Query = {"v": version} if version is not None else {}
    path = f"{_BASE}/{segment(variation_name)}/{segment(derivative_name)}"
    return Call("GET", path, raw_bytes, params=params)


def list_families() -> Call[list[FamilyPublic]]:
    """``GET /api/images/families``: each size family with its derivatives' sizes."""
    return Call("GET", f"{_BASE}/families", json_as(list[FamilyPublic]))


def list_models() -> Call[list[ModelPublic]]:
    """``GET /api/images/models``: the configured image models and whether each is loaded."""
    return Call("GET", f"{_BASE}/models", json_as(list[ModelPublic]))


def ml_health() -> Call[MlHealth]:
    """``GET /api/images/health/ml``."""
    return Call("GET", f"{_BASE}/health/ml", json_as(MlHealth))
