"""The ``assistant:`` section of imajin's configuration: instances, cache, pipelines.

imajin ships no instance configuration (SPEC §4.3 rule 2): the deployer names
their own under ``instances``, each a path to a YAML file or an inline mapping,
and callers pick one by name or send theirs with each request.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["AssistantSettings"]


class AssistantSettings(BaseModel):
    """Settings of the prompt assistant (SPEC §4)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    instances: dict[str, Path | dict[str, Any]] = Field(
        default_factory=dict,
        description="Named instance configurations: name -> a YAML file (absolute, or relative "
        "to the working directory) or an inline mapping in the SPEC §4.3 schema. Empty: every "
        "request must send its own instanceConfig.",
    )
    default_instance: str | None = Field(
        None,
        description="The instance used when a request names none; a key of instances. "
        "None: such a request is refused with 422.",
    )
    development_mode: bool = Field(
        False,
        description="Raise, instead of only logging an error, when a prompt about to be sent "
        "to an LLM breaks rule 1 (term lists, examples, absolute rules in instructions).",
    )
    cache: bool = Field(
        True, description="Keep LLM answers in the database and reuse them for the same question."
    )
    cache_ttl_s: float | None = Field(
        None, gt=0, description="Seconds a cached answer stays usable; None keeps it forever."
    )
    pipelines_dir: Path | None = Field(
        None,
        description="Operator pipeline files (*.yaml), added to the shipped ones and replacing "
        "those with the same id; None means <data_dir>/pipelines.",
    )
    max_filters: int = Field(
        20, ge=1, le=200, description="Most filter terms one analyze-context request may send."
    )
    max_prompts: int = Field(
        50, ge=1, le=1000, description="Largest count one generate-prompts request may ask for."
    )

    @model_validator(mode="after")
    def _default_is_defined(self) -> Self:
        if self.default_instance is not None and self.default_instance not in self.instances:
            known = ", ".join(sorted(self.instances)) or "none"
            raise ValueError(
                f"assistant.default_instance {self.default_instance!r} is not defined under "
                f"assistant.instances (defined: {known}); add it there or unset it."
            )
        return self
