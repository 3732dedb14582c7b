"""Facts about each pipeline family the engine can run.

A family is an architecture (SD 1.5, SDXL, SD3, Z-Image): it decides the
diffusers pipeline class, the denoiser's attribute name, the kind of sampler
(noise-prediction vs flow matching) and sensible defaults. Everything that
differs between families is data here, so the rest of the engine has no
per-family ``if`` chains.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

FamilyId = Literal["sd15", "sdxl", "sd3", "zimage"]
FAMILY_IDS: tuple[FamilyId, ...] = ("sd15", "sdxl", "sd3", "zimage")

# Readable names, also for architectures a LoRA may be made for that we cannot run.
_LABELS = {
    "sd15": "SD 1.5",
    "sd2": "SD 2.x",
    "sdxl": "SDXL",
    "sd3": "SD3",
    "flux": "FLUX",
    "zimage": "Z-Image",
}


@dataclass(frozen=True)
class Family:
    """One pipeline family.

    Attributes:
        id: Short id used in manifests (``sdxl``).
        label: Readable name for messages (``SDXL``).
        pipeline_class: Name of the diffusers pipeline class.
        denoiser: Attribute of the pipeline holding the denoiser (``unet`` / ``transformer``).
        flow_matching: True for rectified-flow models (only flow samplers apply).
        guidance_rescale: The pipeline accepts ``guidance_rescale`` (v-prediction fix).
        cuda_dtype: The half-precision dtype that is safe for it on CUDA.
        scheduler: Default sampler when neither manifest nor request names one.
        steps: Default step count.
        guidance: Default guidance scale.
        native: Default native side in pixels.
    """

    id: FamilyId
    label: str
    pipeline_class: str
    denoiser: str
    flow_matching: bool
    guidance_rescale: bool
    cuda_dtype: Literal["float16", "bfloat16"]
    scheduler: str
    steps: int
    guidance: float
    native: int


FAMILIES: dict[FamilyId, Family] = {
    "sd15": Family(
        id="sd15",
        label="SD 1.5",
        pipeline_class="StableDiffusionPipeline",
        denoiser="unet",
        flow_matching=False,
        guidance_rescale=True,
        cuda_dtype="float16",
        scheduler="dpmpp_2m_karras",
        steps=25,
        guidance=7.0,
        native=512,
    ),
    "sdxl": Family(
        id="sdxl",
        label="SDXL",
        pipeline_class="StableDiffusionXLPipeline",
        denoiser="unet",
        flow_matching=False,
        guidance_rescale=True,
        cuda_dtype="float16",
        scheduler="dpmpp_2m_karras",
        steps=30,
        guidance=6.0,
        native=1024,
    ),
    "sd3": Family(
        id="sd3",
        label="SD3",
        pipeline_class="StableDiffusion3Pipeline",
        denoiser="transformer",
        flow_matching=True,
        guidance_rescale=False,
        cuda_dtype="bfloat16",
        scheduler="euler",
        steps=28,
        guidance=4.5,
        native=1024,
    ),
    "zimage": Family(
        id="zimage",
        label="Z-Image",
        pipeline_class="ZImagePipeline",
        denoiser="transformer",
        flow_matching=True,
        guidance_rescale=False,
        cuda_dtype="bfloat16",
        scheduler="euler",
        steps=9,
        guidance=0.0,
        native=1024,
    ),
}

# model_index.json ``_class_name`` → family, for local folders without an imajin.json card.
PIPELINE_CLASS_FAMILIES: dict[str, FamilyId] = {
    family.pipeline_class: family.id for family in FAMILIES.values()
}


def family_label(family: str | None) -> str:
    """Readable name of an architecture id (``sdxl`` → ``SDXL``); unknown ids pass through."""
    if family is None:
        return "an unknown architecture"
    return _LABELS.get(family, family)
