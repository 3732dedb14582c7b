"""Encode the training set once: VAE latents of the images, text conditioning of the captions.

Only the UNet gets a LoRA, so the VAE and the text encoders are frozen and
their outputs never change during training: computing them once up front
makes each step a single UNet forward and backward, and lets the encoders be
dropped from memory before the loop starts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from imajin.training.dataset import PreparedImage, TrainingExample, load_image

# Images (and captions) per encoder call: bounds memory at large resolutions.
_CHUNK = 4

TextEncoder = Callable[[Any, list[str], torch.device], tuple[torch.Tensor, torch.Tensor | None]]
"""(pipeline, captions, device) → (per-token hidden states, pooled embedding or None)."""


def _sd15_text(
    pipe: Any, captions: list[str], device: torch.device
) -> tuple[torch.Tensor, torch.Tensor | None]:
    embeds, _ = pipe.encode_prompt(captions, device, 1, False)
    return embeds, None


def _sdxl_text(
    pipe: Any, captions: list[str], device: torch.device
) -> tuple[torch.Tensor, torch.Tensor | None]:
    embeds, _, pooled, _ = pipe.encode_prompt(
        prompt=captions, device=device, num_images_per_prompt=1, do_classifier_free_guidance=False
    )
    return embeds, pooled


# The families LoRA training supports, with how each conditions its UNet on text.
TEXT_ENCODERS: dict[str, TextEncoder] = {"sd15": _sd15_text, "sdxl": _sdxl_text}


@dataclass(frozen=True)
class Conditioning:
    """What the UNet is conditioned on, one row per training example.

    Attributes:
        hidden_states: Text encoder hidden states, shape (N, tokens, width).
        pooled: SDXL's pooled text embedding, shape (N, width); None for SD 1.5.
        time_ids: SDXL's size/crop conditioning (original h, w, crop top, left,
            target h, w), shape (N, 6); None for SD 1.5.
    """

    hidden_states: torch.Tensor
    pooled: torch.Tensor | None = None
    time_ids: torch.Tensor | None = None

    def unet_kwargs(self, indices: torch.Tensor) -> dict[str, Any]:
        """Keyword arguments of the UNet call for the examples at ``indices``."""
        kwargs: dict[str, Any] = {"encoder_hidden_states": self.hidden_states[indices]}
        if self.pooled is not None and self.time_ids is not None:
            kwargs["added_cond_kwargs"] = {
                "text_embeds": self.pooled[indices],
                "time_ids": self.time_ids[indices],
            }
        return kwargs


@dataclass(frozen=True)
class CachedData:
    """The whole training set as tensors on the training device.

    Attributes:
        latents: Scaled VAE latents, shape (N, channels, side / 8, side / 8).
        conditioning: Text (and, for SDXL, size) conditioning per example.
    """

    latents: torch.Tensor
    conditioning: Conditioning

    def __len__(self) -> int:
        return int(self.latents.shape[0])


@torch.no_grad()
def cache_training_data(
    pipe: Any,
    *,
    family: str,
    examples: list[TrainingExample],
    side: int,
    device: torch.device,
    seed: int,
    on_image: Callable[[int, int], None] | None = None,
) -> CachedData:
    """Encode every example with ``pipe``'s VAE and text encoders on ``device``.

    Args:
        pipe: A loaded SD 1.5 or SDXL pipeline (its encoders are moved to ``device``).
        family: ``sd15`` or ``sdxl`` (a key of :data:`TEXT_ENCODERS`).
        examples: The training set, in order.
        side: Square training size in pixels.
        device: Where encoding runs and the cached tensors live.
        seed: Seeds the one latent sample drawn per image, so a resumed run
            caches exactly the latents the first run did.
        on_image: Called as ``(done, total)`` after each chunk of images.
    """
    encode_text = TEXT_ENCODERS[family]
    vae = pipe.vae.to(device)
    generator = torch.Generator().manual_seed(seed)
    latents: list[torch.Tensor] = []
    prepared: list[PreparedImage] = []
    for start in range(0, len(examples), _CHUNK):
        chunk = [load_image(e.image, side=side) for e in examples[start : start + _CHUNK]]
        pixels = torch.from_numpy(np.stack([image.pixels for image in chunk])).to(device)
        sample = vae.encode(pixels.to(vae.dtype)).latent_dist.sample(generator=generator)
        latents.append(sample.float() * vae.config.scaling_factor)
        prepared.extend(chunk)
        if on_image is not None:
            on_image(len(prepared), len(examples))

    for name in ("text_encoder", "text_encoder_2"):
        if getattr(pipe, name, None) is not None:
            getattr(pipe, name).to(device)
    hidden: list[torch.Tensor] = []
    pooled: list[torch.Tensor] = []
    for start in range(0, len(examples), _CHUNK):
        captions = [e.caption for e in examples[start : start + _CHUNK]]
        states, pooled_chunk = encode_text(pipe, captions, device)
        hidden.append(states.float())
        if pooled_chunk is not None:
            pooled.append(pooled_chunk.float())

    conditioning = Conditioning(hidden_states=torch.cat(hidden))
    if pooled:
        time_ids = [[*image.original_size, *image.crop_top_left, side, side] for image in prepared]
        conditioning = Conditioning(
            hidden_states=conditioning.hidden_states,
            pooled=torch.cat(pooled),
            time_ids=torch.tensor(time_ids, dtype=torch.float32, device=device),
        )
    return CachedData(latents=torch.cat(latents), conditioning=conditioning)
