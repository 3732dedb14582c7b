"""The variations HTTP contract (SPEC §3.2), defined in :mod:`imajin.contracts.variations`."""

from __future__ import annotations

from imajin.contracts.variations import (
    NAME_PATTERN,
    RESERVED_NAMES,
    Camel,
    DerivativePublic,
    DerivativeSize,
    FamilyPublic,
    GenerationInput,
    GenerationParams,
    RegenerateRequest,
    VariationCreate,
    VariationPage,
    VariationPublic,
    VariationStatus,
)

__all__ = [
    "NAME_PATTERN",
    "RESERVED_NAMES",
    "Camel",
    "DerivativePublic",
    "DerivativeSize",
    "FamilyPublic",
    "GenerationInput",
    "GenerationParams",
    "RegenerateRequest",
    "VariationCreate",
    "VariationPage",
    "VariationPublic",
    "VariationStatus",
]
