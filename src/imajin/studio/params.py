"""One parameters model per studio job kind, shared by the service (submit) and the handler.

Each job carries its complete generation request, so a worker needs neither the
set file nor the studio defaults. The stored JSON keeps the keys jobs were
queued with before these models existed (``batchId``, ``outputDir`` ...), so
those jobs still run.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from imajin.config.studio import ImageFormat
from imajin.engine.request import GenerationRequest

BATCH_ITEM_JOB = "batch_item"
GENERATE_JOB = "generate"


class _StudioParams(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, serialize_by_alias=True)

    request: GenerationRequest = Field(description="The complete request, defaults filled in.")
    quality: int = Field(95, ge=1, le=100, description="Quality when the format is webp.")

    def stored(self) -> dict[str, Any]:
        """The JSON the job row holds (unset request fields left out, as before)."""
        return self.model_dump(mode="json", exclude_none=True)


class BatchItemParams(_StudioParams):
    """The ``params`` of a ``batch_item`` job: one row of a set."""

    batch_id: str = Field(alias="batchId")
    set_name: str = Field(alias="setName")
    user_theme: str = Field(alias="userTheme")
    index: int = Field(ge=0, description="The row's index in its set.")
    item: str
    values: dict[str, str] = Field(description="The row's columns.")
    output: str = Field(description="The image's name under the outputs root.")


class GenerateParams(_StudioParams):
    """The ``params`` of a ``generate`` job: one request, its images in its own folder."""

    output_dir: str = Field(alias="outputDir", description="The folder reserved at submit.")
    stamp: str = Field(description="The timestamp its file names start with.")
    format: ImageFormat = "png"
