"""The effective parameters of one generated image: what metadata records.

They are enough to make the same image again: :meth:`GenerationParameters.to_request`
turns them back into a request for exactly that image.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from imajin.engine.request import GenerationRequest, LoraRequest

PARAMETERS_SCHEMA = "imajin.generation/1"


class AppliedLora(BaseModel):
    """A LoRA as applied: its name, file, hash and weight."""

    model_config = ConfigDict(extra="ignore")

    name: str
    path: str
    sha256: str | None = None
    weight: float


class GenerationParameters(BaseModel):
    """Everything that decided one image's pixels (on a given device)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    schema_: str = Field(default=PARAMETERS_SCHEMA, alias="schema")
    prompt: str
    negative_prompt: str = ""
    model: str = Field(description="Model id (or local path) as resolved.")
    model_name: str | None = None
    model_hash: str | None = Field(default=None, description="SHA-256 of the model's weights.")
    family: str | None = None
    width: int
    height: int
    steps: int
    guidance: float
    guidance_rescale: float = 0.0
    seed: int
    scheduler: str
    loras: list[AppliedLora] = Field(default_factory=list)
    imajin_version: str | None = None

    def to_request(self) -> GenerationRequest:
        """A request that regenerates this image (same seed, one image).

        A model default below the request range (guidance 0 on a distilled model)
        is left unset so the model's default applies again.
        """
        return GenerationRequest(
            prompt=self.prompt,
            negative_prompt=self.negative_prompt,
            model=self.model,
            width=self.width,
            height=self.height,
            steps=self.steps,
            guidance=self.guidance if self.guidance >= 1.0 else None,
            seed=self.seed,
            scheduler=self.scheduler,
            num_images=1,
            loras=[LoraRequest(path=lora.path, weight=lora.weight) for lora in self.loras],
        )
