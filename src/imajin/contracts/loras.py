"""LoRA files as ``GET /api/loras`` lists them: what each was made for, and whether it fits."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["LoraPublic"]


# One LoRA file in the LoRA folders. No docstring: it would become the schema's description.
class LoraPublic(BaseModel):
    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)

    id: str = Field(description="What a request's `loras[].id` takes (the file stem).")
    file: str = Field(description="File name inside its LoRA folder.")
    # `alias` (not only a serialization alias) so a client reads back what the server wrote.
    size_bytes: int = Field(alias="sizeBytes", ge=0)
    architecture: str | None = Field(
        description="Architecture it was made for (`sd15`, `sdxl`, ...), from its header; "
        "null when the header does not tell."
    )
    architecture_label: str | None = Field(alias="architectureLabel")
    compatible: bool | None = Field(
        None,
        description="With `?model=`: whether it fits that model (an unknown architecture "
        "counts as fitting; the layers are checked when it is applied). Null without `model`.",
    )
    reason: str | None = Field(None, description="Why it does not fit, when it does not.")
