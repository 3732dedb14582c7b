"""Variations settings (the ``variations:`` section)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class VariationsSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    public_base_url: str = Field(
        "", description="Prefix of publicUrl (e.g. a CDN origin); empty gives relative URLs."
    )
    unversioned_max_age_s: int = Field(
        60, ge=0, description="Cache lifetime of image URLs without ?v= (then revalidate)."
    )
