"""A model's manifest entry: where its weights are and how to run it by default."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from imajin.engine.families import FAMILIES, FamilyId
from imajin.engine.schedulers import SCHEDULER_NAMES
from imajin.engine.sources import ModelSource, parse_source

Style = Literal["photorealistic", "anime"]
STYLES: tuple[Style, ...] = ("photorealistic", "anime")
Prediction = Literal["epsilon", "v_prediction"]
Status = Literal["default", "available", "legacy"]


class ModelSpec(BaseModel):
    """One model: where its weights are and how to run it by default.

    Only ``id``, ``style``, ``family`` and ``source`` are required (SPEC §2.1):
    ``name`` defaults to the id; ``native``, ``scheduler``, ``steps`` and
    ``guidance`` to the family's; ``prediction`` to epsilon; ``status`` to available.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1, description="Unique id (a slug; a local path for ad-hoc models).")
    name: str = Field(min_length=1, description="Readable name.")
    style: Style
    family: FamilyId
    source: str = Field(description="Hub repo id, hub file, or local path.")
    native: int = Field(ge=64, le=4096, description="Native side in pixels.")
    scheduler: str = Field(description="Default sampler name.")
    steps: int = Field(ge=1, le=100)
    guidance: float = Field(ge=0.0, le=20.0)
    prediction: Prediction = "epsilon"
    status: Status = "available"
    guidance_rescale: float = Field(default=0.0, ge=0.0, le=1.0)
    variant: str | None = Field(default=None, description="Weights variant, e.g. fp16.")
    revision: str | None = Field(
        default=None,
        pattern=r"^[\w./-]{1,100}$",
        description="Hub branch, tag or commit of a repo source (default: main).",
    )
    config: str | None = Field(
        default=None, description="Pipeline config (repo id or folder) for a single-file source."
    )

    @model_validator(mode="before")
    @classmethod
    def _family_defaults(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        defaults: dict[str, Any] = {"name": data["id"]} if data.get("id") else {}
        # An unknown family gets no defaults: the field validator reports it first.
        if data.get("family") in FAMILIES:
            family = FAMILIES[data["family"]]
            defaults.update(
                native=family.native,
                scheduler=family.scheduler,
                steps=family.steps,
                guidance=family.guidance,
            )
        return {**defaults, **data}

    @field_validator("scheduler")
    @classmethod
    def _known_scheduler(cls, value: str) -> str:
        if value not in SCHEDULER_NAMES:
            raise ValueError(
                f"unknown scheduler {value!r}; use one of {', '.join(SCHEDULER_NAMES)}"
            )
        return value

    @property
    def parsed_source(self) -> ModelSource:
        """The source, classified (repo, hub file, folder, file)."""
        return parse_source(self.source)
