"""The ``variation`` job's parameters, shared by the service (submit) and the handler (run).

The job carries only the variation's id: what it is generated with lives on the
variation row (:class:`~imajin.variations.schemas.GenerationParams`), so a
regenerate and its job always agree. The stored JSON is ``{"variationId": ...}``,
as jobs queued before this model existed carry it.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

JOB_KIND = "variation"
QUEUE = "variations"


class VariationJobParams(BaseModel):
    """The ``params`` of a ``variation`` job."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, serialize_by_alias=True)

    variation_id: str = Field(alias="variationId", min_length=1, max_length=64)
