"""The batch-studio HTTP contract (SPEC §5), defined in :mod:`imajin.contracts.studio`."""

from __future__ import annotations

from imajin.contracts.studio import (
    BatchCreate,
    BatchCreated,
    BatchDetail,
    BatchItem,
    BatchPage,
    BatchStatus,
    BatchSummary,
    GenerateAccepted,
    GenerateRequest,
    LoraPublic,
    Progress,
    SetInfo,
    SetItemPublic,
    SetSummary,
    Strict,
    StudioConfigPublic,
    StudioConfigUpdate,
    Theme,
)

__all__ = [
    "BatchCreate",
    "BatchCreated",
    "BatchDetail",
    "BatchItem",
    "BatchPage",
    "BatchStatus",
    "BatchSummary",
    "GenerateAccepted",
    "GenerateRequest",
    "LoraPublic",
    "Progress",
    "SetInfo",
    "SetItemPublic",
    "SetSummary",
    "Strict",
    "StudioConfigPublic",
    "StudioConfigUpdate",
    "Theme",
]
