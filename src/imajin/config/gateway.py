"""The ``gateway:`` section: which policy, model, queue size and timeout each endpoint has.

The profile endpoints (``vision`` work) read ``endpoints["profile"]`` from here too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

EndpointName = Literal["chat_1to1", "shorts", "scenes", "imagegen", "profile"]
PolicyName = Literal["unrestricted", "moderated", "sfw"]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EndpointSettings(_Section):
    policy: PolicyName = Field(description="Content policy (SPEC §1.4).")
    model: str | None = Field(None, description="Image model; unset = gateway.model.")
    capacity: int = Field(16, ge=1, description="Queued + running requests before 429.")
    timeout_s: float = Field(
        120.0, gt=0, description="How long a request waits for its job before 202 {job_id}."
    )

    @property
    def checks_output(self) -> bool:
        return self.policy != "unrestricted"


def _default_endpoints() -> dict[EndpointName, EndpointSettings]:
    return {
        "chat_1to1": EndpointSettings(policy="unrestricted"),
        "shorts": EndpointSettings(policy="moderated"),
        "scenes": EndpointSettings(policy="moderated"),
        "imagegen": EndpointSettings(policy="sfw"),
        "profile": EndpointSettings(policy="sfw"),
    }


class OutputCheckSettings(_Section):
    threshold: float = Field(
        0.8, ge=0.0, le=1.0, description="Classifier score above which an image is refused."
    )


class ProfileSettings(_Section):
    """The selfie → avatar endpoints' input limits and privacy (SPEC §6.2)."""

    max_bytes: int = Field(
        10 * 1024 * 1024, ge=1024, description="Largest selfie upload in bytes (413 above)."
    )
    max_pixels: int = Field(
        40_000_000,
        ge=64 * 64,
        description="Most pixels (width × height, read from the header) a selfie may have.",
    )
    decode_timeout_s: float = Field(
        10.0, gt=0, description="Longest a worker spends decoding one selfie."
    )
    keep_selfies: bool = Field(
        False, description="Keep uploaded selfies under <data_dir>/selfies (off: memory only)."
    )
    selfie_retention_days: float = Field(
        7.0, gt=0, description="Kept selfies older than this are deleted."
    )
    store_feature_text: bool = Field(
        True,
        description="Keep the extracted features, and the prompt written from them, in the "
        "avatar's stored parameters and the job's result (off: they go to the waiting request, "
        "or the first GET /api/jobs/{id} of a 202'd job, and are then deleted).",
    )
    unread_features_ttl_s: float = Field(
        600.0,
        gt=0,
        le=7 * 24 * 3600,
        description="With store_feature_text off: how long a finished job's features wait for "
        "their first read before they are deleted unread.",
    )
    avatar_template: Path | None = Field(
        None,
        description="YAML replacing the shipped avatar template (imajin/gateway/profile.yaml); "
        "its phrases name fields of the feature schema (vision.features_file); null = the "
        "shipped file.",
    )


class GatewaySettings(_Section):
    model: str = Field("z-image-turbo", min_length=1, description="Default image model.")
    llm_model: str | None = Field(None, description="A key of llm.models; unset = llm default.")
    prompts_file: str | None = Field(
        None, description="YAML replacing the shipped shorten/expand/caption instructions."
    )
    retry_after_cap_ms: int = Field(30_000, ge=1000, description="Cap on Retry-After.")
    output_check: OutputCheckSettings = OutputCheckSettings()
    max_message_chars: int = Field(4000, ge=1, description="Longest chat message accepted.")
    max_history_turns: int = Field(50, ge=0, description="Most history turns accepted.")
    endpoints: dict[EndpointName, EndpointSettings] = Field(default_factory=_default_endpoints)
    profile: ProfileSettings = ProfileSettings()

    def endpoint(self, name: EndpointName) -> EndpointSettings:
        configured = self.endpoints.get(name)
        return configured if configured is not None else _default_endpoints()[name]

    def queue_of(self, name: EndpointName) -> str:
        """The admission queue of an endpoint (its own bounded queue)."""
        return f"gateway.{name}"
