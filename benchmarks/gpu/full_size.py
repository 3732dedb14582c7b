"""Full-size SD 1.5, SDXL and Z-Image-Turbo pipelines with random weights, built from configs.

The component configs below are the published diffusers/transformers ``config.json``
values of ``runwayml/stable-diffusion-v1-5``, ``stabilityai/stable-diffusion-xl-base-1.0``
and ``Tongyi-MAI/Z-Image-Turbo`` (bookkeeping keys such as ``_class_name`` and
``_diffusers_version`` dropped). Nothing is downloaded: the architectures are built from
these dicts and initialised randomly, so the denoiser, the text encoders and the VAE do
exactly the work of the real models (same layers, same shapes, same FLOPs), only their
pictures are noise.

Only the tokenizers are stand-ins: the tiny byte-level tokenizers of
:mod:`imajin.testing.tokenizer` (ids far below the real vocabularies). CLIP always pads
to 77 tokens and Z-Image's Qwen3 encoder always runs on 512, as with the real
tokenizers; the one difference is the number of caption tokens Z-Image's transformer
attends to (a byte per token here, ~4x the real BPE's count for an English prompt,
still small against the 4096 image tokens of a 1024² image).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import diffusers as _diffusers
import torch
from transformers import (
    CLIPTextConfig,
    CLIPTextModel,
    CLIPTextModelWithProjection,
    Qwen3Config,
    Qwen3Model,
)

from imajin.testing.tokenizer import (
    BOS_TOKEN,
    EOS_TOKEN,
    build_tiny_clip_tokenizer,
    build_tiny_qwen_tokenizer,
)

# diffusers leaves its constructors untyped; use it through Any (as imajin.testing does).
diffusers: Any = _diffusers

_DOWN_ENC = ["DownEncoderBlock2D"] * 4
_UP_DEC = ["UpDecoderBlock2D"] * 4

# -- runwayml/stable-diffusion-v1-5 -------------------------------------------------------

SD15_UNET: dict[str, Any] = {
    "act_fn": "silu",
    "attention_head_dim": 8,
    "block_out_channels": [320, 640, 1280, 1280],
    "center_input_sample": False,
    "cross_attention_dim": 768,
    "down_block_types": [
        "CrossAttnDownBlock2D",
        "CrossAttnDownBlock2D",
        "CrossAttnDownBlock2D",
        "DownBlock2D",
    ],
    "downsample_padding": 1,
    "flip_sin_to_cos": True,
    "freq_shift": 0,
    "in_channels": 4,
    "layers_per_block": 2,
    "mid_block_scale_factor": 1,
    "norm_eps": 1e-05,
    "norm_num_groups": 32,
    "out_channels": 4,
    "sample_size": 64,
    "up_block_types": [
        "UpBlock2D",
        "CrossAttnUpBlock2D",
        "CrossAttnUpBlock2D",
        "CrossAttnUpBlock2D",
    ],
}
SD15_VAE: dict[str, Any] = {
    "act_fn": "silu",
    "block_out_channels": [128, 256, 512, 512],
    "down_block_types": _DOWN_ENC,
    "in_channels": 3,
    "latent_channels": 4,
    "layers_per_block": 2,
    "norm_num_groups": 32,
    "out_channels": 3,
    "sample_size": 512,
    "up_block_types": _UP_DEC,
}
# openai/clip-vit-large-patch14's text tower (SD 1.5's and SDXL's first text encoder).
CLIP_L_TEXT: dict[str, Any] = {
    "hidden_act": "quick_gelu",
    "hidden_size": 768,
    "intermediate_size": 3072,
    "layer_norm_eps": 1e-05,
    "max_position_embeddings": 77,
    "num_attention_heads": 12,
    "num_hidden_layers": 12,
    "projection_dim": 768,
    "vocab_size": 49408,
}
SD_SCHEDULER: dict[str, Any] = {
    "beta_end": 0.012,
    "beta_schedule": "scaled_linear",
    "beta_start": 0.00085,
    "num_train_timesteps": 1000,
    "steps_offset": 1,
}

# -- stabilityai/stable-diffusion-xl-base-1.0 ------------------------------------------------

SDXL_UNET: dict[str, Any] = {
    "act_fn": "silu",
    "addition_embed_type": "text_time",
    "addition_time_embed_dim": 256,
    "attention_head_dim": [5, 10, 20],
    "block_out_channels": [320, 640, 1280],
    "center_input_sample": False,
    "cross_attention_dim": 2048,
    "down_block_types": ["DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"],
    "downsample_padding": 1,
    "flip_sin_to_cos": True,
    "freq_shift": 0,
    "in_channels": 4,
    "layers_per_block": 2,
    "mid_block_scale_factor": 1,
    "norm_eps": 1e-05,
    "norm_num_groups": 32,
    "out_channels": 4,
    "projection_class_embeddings_input_dim": 2816,
    "sample_size": 128,
    "transformer_layers_per_block": [1, 2, 10],
    "up_block_types": ["CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"],
    "use_linear_projection": True,
}
SDXL_VAE: dict[str, Any] = {
    **SD15_VAE,
    "force_upcast": True,
    "sample_size": 1024,
    "scaling_factor": 0.13025,
}
# laion/CLIP-ViT-bigG-14's text tower (SDXL's second text encoder, with projection).
CLIP_BIG_G_TEXT: dict[str, Any] = {
    "hidden_act": "gelu",
    "hidden_size": 1280,
    "intermediate_size": 5120,
    "layer_norm_eps": 1e-05,
    "max_position_embeddings": 77,
    "num_attention_heads": 20,
    "num_hidden_layers": 32,
    "projection_dim": 1280,
    "vocab_size": 49408,
}
SDXL_SCHEDULER: dict[str, Any] = {
    **SD_SCHEDULER,
    "interpolation_type": "linear",
    "timestep_spacing": "leading",
}

# -- Tongyi-MAI/Z-Image-Turbo -----------------------------------------------------------------

ZIMAGE_TRANSFORMER: dict[str, Any] = {
    "all_f_patch_size": [1],
    "all_patch_size": [2],
    "axes_dims": [32, 48, 48],
    "axes_lens": [1536, 512, 512],
    "cap_feat_dim": 2560,
    "dim": 3840,
    "in_channels": 16,
    "n_heads": 30,
    "n_kv_heads": 30,
    "n_layers": 30,
    "n_refiner_layers": 2,
    "norm_eps": 1e-05,
    "qk_norm": True,
    "rope_theta": 256.0,
    "t_scale": 1000.0,
}
# The FLUX VAE: 16 latent channels, no quant convs.
ZIMAGE_VAE: dict[str, Any] = {
    "act_fn": "silu",
    "block_out_channels": [128, 256, 512, 512],
    "down_block_types": _DOWN_ENC,
    "force_upcast": True,
    "in_channels": 3,
    "latent_channels": 16,
    "layers_per_block": 2,
    "mid_block_add_attention": True,
    "norm_num_groups": 32,
    "out_channels": 3,
    "sample_size": 1024,
    "scaling_factor": 0.3611,
    "shift_factor": 0.1159,
    "up_block_types": _UP_DEC,
    "use_post_quant_conv": False,
    "use_quant_conv": False,
}
# Qwen/Qwen3-4B (the text encoder folder of Z-Image-Turbo).
QWEN3_4B: dict[str, Any] = {
    "attention_bias": False,
    "head_dim": 128,
    "hidden_act": "silu",
    "hidden_size": 2560,
    "intermediate_size": 9728,
    "max_position_embeddings": 40960,
    "num_attention_heads": 32,
    "num_hidden_layers": 36,
    "num_key_value_heads": 8,
    "rms_norm_eps": 1e-06,
    "rope_theta": 1000000,
    "tie_word_embeddings": True,
    "vocab_size": 151936,
}
ZIMAGE_SCHEDULER: dict[str, Any] = {
    "num_train_timesteps": 1000,
    "shift": 3.0,
    "use_dynamic_shifting": False,
}


def _on(device: torch.device | str, dtype: torch.dtype, build: Callable[[], Any]) -> Any:
    """Build a module directly on ``device`` and in ``dtype``.

    No CPU copy and no float32 copy of a multi-GB model: Z-Image's transformer alone is
    25 GB in float32, more than a 24 GB GPU holds, though it runs there in bfloat16.
    """
    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        with torch.device(device):
            module = build()
    finally:
        torch.set_default_dtype(previous)
    # Buffers a module makes in an explicit dtype keep it; parameters are ``dtype`` already.
    return module.to(dtype=dtype).eval().requires_grad_(False)


def _clip(config: dict[str, Any], *, projection: bool) -> Any:
    # The stand-in tokenizer's special ids, so pooling finds its end-of-text token.
    tokenizer = build_tiny_clip_tokenizer()
    eos = int(tokenizer.convert_tokens_to_ids(EOS_TOKEN))  # type: ignore[arg-type]
    bos = int(tokenizer.convert_tokens_to_ids(BOS_TOKEN))  # type: ignore[arg-type]
    text_config = CLIPTextConfig(**config, bos_token_id=bos, eos_token_id=eos, pad_token_id=eos)
    model_class = CLIPTextModelWithProjection if projection else CLIPTextModel
    return model_class(text_config)


def build_sd15(*, device: torch.device | str, dtype: torch.dtype) -> Any:
    """SD 1.5 (UNet 0.86 B parameters, CLIP-L text encoder, SD VAE) on ``device``."""
    return diffusers.StableDiffusionPipeline(
        vae=_on(device, dtype, lambda: diffusers.AutoencoderKL(**SD15_VAE)),
        text_encoder=_on(device, dtype, lambda: _clip(CLIP_L_TEXT, projection=False)),
        tokenizer=build_tiny_clip_tokenizer(),
        unet=_on(device, dtype, lambda: diffusers.UNet2DConditionModel(**SD15_UNET)),
        scheduler=diffusers.PNDMScheduler(
            **SD_SCHEDULER, skip_prk_steps=True, set_alpha_to_one=False
        ),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )


def build_sdxl(*, device: torch.device | str, dtype: torch.dtype) -> Any:
    """SDXL base (UNet 2.6 B parameters, CLIP-L + bigG text encoders, SDXL VAE)."""
    return diffusers.StableDiffusionXLPipeline(
        vae=_on(device, dtype, lambda: diffusers.AutoencoderKL(**SDXL_VAE)),
        text_encoder=_on(device, dtype, lambda: _clip(CLIP_L_TEXT, projection=False)),
        text_encoder_2=_on(device, dtype, lambda: _clip(CLIP_BIG_G_TEXT, projection=True)),
        tokenizer=build_tiny_clip_tokenizer(),
        tokenizer_2=build_tiny_clip_tokenizer(),
        unet=_on(device, dtype, lambda: diffusers.UNet2DConditionModel(**SDXL_UNET)),
        scheduler=diffusers.EulerDiscreteScheduler(**SDXL_SCHEDULER),
        force_zeros_for_empty_prompt=True,
        add_watermarker=False,
    )


def build_zimage(*, device: torch.device | str, dtype: torch.dtype) -> Any:
    """Z-Image-Turbo (6.2 B-parameter single-stream DiT, Qwen3-4B text encoder, FLUX VAE)."""
    return diffusers.ZImagePipeline(
        scheduler=diffusers.FlowMatchEulerDiscreteScheduler(**ZIMAGE_SCHEDULER),
        vae=_on(device, dtype, lambda: diffusers.AutoencoderKL(**ZIMAGE_VAE)),
        text_encoder=_on(device, dtype, lambda: Qwen3Model(Qwen3Config(**QWEN3_4B))),
        tokenizer=build_tiny_qwen_tokenizer(),
        transformer=_on(
            device, dtype, lambda: diffusers.ZImageTransformer2DModel(**ZIMAGE_TRANSFORMER)
        ),
    )


BUILDERS: dict[str, Callable[..., Any]] = {
    "sd15": build_sd15,
    "sdxl": build_sdxl,
    "zimage": build_zimage,
}


def build_full_size(family: str, *, device: torch.device | str, dtype: torch.dtype) -> Any:
    """The full-size pipeline of ``family`` (sd15, sdxl, zimage) with random weights.

    Raises:
        ValueError: ``family`` is not one of the three.
    """
    if family not in BUILDERS:
        raise ValueError(f"no full-size config for {family!r}; choose one of {', '.join(BUILDERS)}")
    return BUILDERS[family](device=device, dtype=dtype)


# Z-Image pads its caption to a multiple of 32 tokens; a one-sentence prompt in the chat
# template is 20-30 Qwen tokens, so 32 is what a real call sees.
ZIMAGE_CAPTION_TOKENS = 32


def denoiser_inputs(
    family: str, *, batch: int, size: int, device: torch.device | str, dtype: torch.dtype
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """Arguments of one denoiser call as the pipeline makes it for ``batch`` images.

    SD 1.5 and SDXL run CFG as one call on ``2 * batch`` samples (cond and uncond);
    Z-Image-Turbo runs without CFG (guidance 0). Used with the meta device to count a
    full-size model's FLOPs without its memory.

    Raises:
        ValueError: ``family`` is not sd15, sdxl or zimage.
    """
    latent = size // 8

    def empty(*shape: int) -> torch.Tensor:
        return torch.empty(*shape, device=device, dtype=dtype)

    timestep = torch.tensor(500.0, device=device)
    if family == "sd15":
        return (empty(2 * batch, 4, latent, latent), timestep), {
            "encoder_hidden_states": empty(2 * batch, 77, 768)
        }
    if family == "sdxl":
        added = {"text_embeds": empty(2 * batch, 1280), "time_ids": empty(2 * batch, 6)}
        return (empty(2 * batch, 4, latent, latent), timestep), {
            "encoder_hidden_states": empty(2 * batch, 77, 2048),
            "added_cond_kwargs": added,
        }
    if family == "zimage":
        latents = [empty(16, 1, latent, latent) for _ in range(batch)]
        captions = [empty(ZIMAGE_CAPTION_TOKENS, 2560) for _ in range(batch)]
        return (latents, empty(batch), captions), {}
    raise ValueError(f"no denoiser inputs for {family!r}")
