"""Tiny random-weight pipelines of the real architectures, saved like real model folders.

Each builder makes the real diffusers/transformers classes (``UNet2DConditionModel``,
``AutoencoderKL``, ``CLIPTextModel`` ...) with a handful of channels, seeds torch
so the weights are the same on every build, and writes the pipeline with
``save_pretrained``. The folder then loads through ``from_pretrained`` exactly
as a downloaded model would, so tests run the engine's real code path offline.

Sizing, measured on this project's 2-core CPU box with one torch thread: a build
takes 0.05-0.5 s and 4 steps at the native size 0.06-0.1 s (512 px: ~0.4 s;
1024 px: 2-4 s). The VAE has four levels (downsampling by 8, as the real ones
do) and the UNets keep attention off their highest resolutions, so large
images stay affordable. Every folder also gets an ``imajin.json`` model card
(family, native size, style, defaults) that the engine's registry reads.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

import diffusers as _diffusers
import torch
from transformers import (
    CLIPTextConfig,
    CLIPTextModel,
    CLIPTextModelWithProjection,
    Qwen3Config,
    Qwen3Model,
    T5Config,
    T5EncoderModel,
)

from imajin.testing.tokenizer import (
    BOS_TOKEN,
    EOS_TOKEN,
    MAX_LENGTH,
    build_tiny_clip_tokenizer,
    build_tiny_qwen_tokenizer,
    build_tiny_t5_tokenizer,
)

# diffusers ships py.typed but leaves its constructors untyped; use it through Any.
diffusers: Any = _diffusers

TinyFamily = Literal["sd15", "sdxl", "sd3", "zimage"]
Prediction = Literal["epsilon", "v_prediction"]

MODEL_CARD_NAME = "imajin.json"
TINY_FAMILIES: tuple[TinyFamily, ...] = ("sd15", "sdxl", "sd3", "zimage")
TINY_NATIVE: dict[TinyFamily, int] = {"sd15": 64, "sdxl": 128, "sd3": 64, "zimage": 64}
TINY_STEPS = 4

# The epsilon-model noise schedule every SD 1.x/2.x/XL checkpoint uses.
_SD_BETAS: dict[str, Any] = {
    "num_train_timesteps": 1000,
    "beta_start": 0.00085,
    "beta_end": 0.012,
    "beta_schedule": "scaled_linear",
    "steps_offset": 1,
}


@contextmanager
def _seeded(seed: int) -> Iterator[None]:
    """Seed torch inside the block without disturbing the caller's RNG state."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


def _clip_config(*, hidden_size: int = 32, projection_dim: int = 32) -> CLIPTextConfig:
    tokenizer = build_tiny_clip_tokenizer()
    eos_id = int(tokenizer.convert_tokens_to_ids(EOS_TOKEN))  # type: ignore[arg-type]
    return CLIPTextConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        intermediate_size=37,
        num_attention_heads=4,
        num_hidden_layers=2,
        max_position_embeddings=MAX_LENGTH,
        projection_dim=projection_dim,
        bos_token_id=int(tokenizer.convert_tokens_to_ids(BOS_TOKEN)),  # type: ignore[arg-type]
        eos_token_id=eos_id,
        pad_token_id=eos_id,
        layer_norm_eps=1e-5,
        hidden_act="quick_gelu",
    )


def _tiny_unet(**config: Any) -> Any:
    # Four levels like the real UNets, few channels; attention only where the
    # caller puts it (the low-resolution levels), which keeps big images cheap.
    return diffusers.UNet2DConditionModel(
        in_channels=4,
        out_channels=4,
        block_out_channels=(16, 32, 32, 32),
        layers_per_block=1,
        attention_head_dim=4,
        norm_num_groups=8,
        **config,
    )


def _tiny_vae(*, latent_channels: int = 4, sample_size: int, **extra: Any) -> Any:
    # Four levels → three downsamples → factor 8, like every real SD VAE.
    return diffusers.AutoencoderKL(
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4,
        block_out_channels=(8, 8, 16, 16),
        layers_per_block=1,
        norm_num_groups=4,
        latent_channels=latent_channels,
        sample_size=sample_size,
        **extra,
    )


def _tiny_vae16(*, sample_size: int, shift_factor: float, scaling_factor: float) -> Any:
    # The 16-channel latent space of SD3 and FLUX-style VAEs (no quant convs).
    return _tiny_vae(
        latent_channels=16,
        sample_size=sample_size,
        shift_factor=shift_factor,
        scaling_factor=scaling_factor,
        use_quant_conv=False,
        use_post_quant_conv=False,
    )


def _save(
    pipe: Any,
    path: Path,
    *,
    family: TinyFamily,
    name: str,
    style: str,
    scheduler: str,
    guidance: float,
    prediction: Prediction,
) -> None:
    pipe.save_pretrained(path)
    card = {
        "name": name,
        "family": family,
        "style": style,
        "native": TINY_NATIVE[family],
        "scheduler": scheduler,
        "steps": TINY_STEPS,
        "guidance": guidance,
        "prediction": prediction,
    }
    (path / MODEL_CARD_NAME).write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")


def build_tiny_sd15(
    path: Path | str,
    *,
    seed: int = 0,
    prediction: Prediction = "epsilon",
    style: str = "photorealistic",
) -> Path:
    """Build and save a tiny ``StableDiffusionPipeline`` (native 64 px) into ``path``.

    Args:
        path: Folder to write (created; existing files are overwritten).
        seed: Torch seed for the random weights; the same seed gives the same model.
        prediction: ``epsilon`` or ``v_prediction`` (written to the scheduler config).
        style: The style recorded in the model card.
    """
    path = Path(path)
    native = TINY_NATIVE["sd15"]
    with _seeded(seed):
        unet = _tiny_unet(
            sample_size=native // 8,
            down_block_types=("DownBlock2D", "DownBlock2D", "DownBlock2D", "CrossAttnDownBlock2D"),
            up_block_types=("CrossAttnUpBlock2D", "UpBlock2D", "UpBlock2D", "UpBlock2D"),
            cross_attention_dim=32,
        )
        vae = _tiny_vae(sample_size=native)
        text_encoder = CLIPTextModel(_clip_config())
    scheduler = diffusers.PNDMScheduler(
        **_SD_BETAS, skip_prk_steps=True, set_alpha_to_one=False, prediction_type=prediction
    )
    pipe = diffusers.StableDiffusionPipeline(
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=build_tiny_clip_tokenizer(),
        unet=unet,
        scheduler=scheduler,
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    _save(
        pipe,
        path,
        family="sd15",
        name="Tiny SD 1.5 (random weights)",
        style=style,
        scheduler="dpmpp_2m",
        guidance=5.0,
        prediction=prediction,
    )
    return path


def build_tiny_sdxl(
    path: Path | str,
    *,
    seed: int = 0,
    prediction: Prediction = "epsilon",
    style: str = "photorealistic",
) -> Path:
    """Build and save a tiny ``StableDiffusionXLPipeline`` (native 128 px) into ``path``.

    Two text encoders (the second with a projection, giving the pooled embedding),
    a UNet with SDXL's ``text_time`` added conditioning, and a factor-8 VAE.
    Arguments as for :func:`build_tiny_sd15`.
    """
    path = Path(path)
    native = TINY_NATIVE["sdxl"]
    time_embed_dim = 8
    with _seeded(seed):
        unet = _tiny_unet(
            sample_size=native // 8,
            down_block_types=(
                "DownBlock2D",
                "DownBlock2D",
                "CrossAttnDownBlock2D",
                "CrossAttnDownBlock2D",
            ),
            up_block_types=("CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D", "UpBlock2D"),
            transformer_layers_per_block=(1, 1, 1, 2),
            use_linear_projection=True,
            # SDXL conditions on both encoders' hidden states (32 + 32) and on the
            # pooled embedding (32) plus six size/crop numbers (6 x 8).
            cross_attention_dim=64,
            addition_embed_type="text_time",
            addition_time_embed_dim=time_embed_dim,
            projection_class_embeddings_input_dim=6 * time_embed_dim + 32,
        )
        vae = _tiny_vae(sample_size=native)
        text_encoder = CLIPTextModel(_clip_config())
        text_encoder_2 = CLIPTextModelWithProjection(_clip_config())
    scheduler = diffusers.EulerDiscreteScheduler(
        **_SD_BETAS,
        timestep_spacing="leading",
        interpolation_type="linear",
        prediction_type=prediction,
    )
    pipe = diffusers.StableDiffusionXLPipeline(
        vae=vae,
        text_encoder=text_encoder,
        text_encoder_2=text_encoder_2,
        tokenizer=build_tiny_clip_tokenizer(),
        tokenizer_2=build_tiny_clip_tokenizer(),
        unet=unet,
        scheduler=scheduler,
        force_zeros_for_empty_prompt=True,
        add_watermarker=False,
    )
    _save(
        pipe,
        path,
        family="sdxl",
        name="Tiny SDXL (random weights)",
        style=style,
        scheduler="euler_a",
        guidance=5.0,
        prediction=prediction,
    )
    return path


def build_tiny_sd3(path: Path | str, *, seed: int = 0, style: str = "photorealistic") -> Path:
    """Build and save a tiny ``StableDiffusion3Pipeline`` (native 64 px) into ``path``.

    Three text encoders as in SD3 (two CLIP with projections, one T5), a joint
    transformer (MMDiT) and a VAE with SD3's 16 latent channels and shift/scale.
    """
    path = Path(path)
    native = TINY_NATIVE["sd3"]
    t5_width = 64
    with _seeded(seed):
        transformer = diffusers.SD3Transformer2DModel(
            sample_size=native // 8,
            patch_size=2,
            in_channels=16,
            out_channels=16,
            num_layers=2,
            attention_head_dim=8,
            num_attention_heads=4,
            # T5's width; the two CLIP encoders' hidden states (32 + 32) are padded
            # to it. The pooled projection is both CLIP pooled embeddings (32 + 32).
            joint_attention_dim=t5_width,
            caption_projection_dim=32,
            pooled_projection_dim=64,
            pos_embed_max_size=96,
        )
        vae = _tiny_vae16(sample_size=native, shift_factor=0.0609, scaling_factor=1.5305)
        text_encoder = CLIPTextModelWithProjection(_clip_config())
        text_encoder_2 = CLIPTextModelWithProjection(_clip_config())
        t5_tokenizer = build_tiny_t5_tokenizer()
        text_encoder_3 = T5EncoderModel(
            T5Config(
                vocab_size=len(t5_tokenizer),
                d_model=t5_width,
                d_ff=37,
                d_kv=8,
                num_layers=2,
                num_heads=4,
                relative_attention_num_buckets=8,
                pad_token_id=t5_tokenizer.pad_token_id,
                eos_token_id=t5_tokenizer.eos_token_id,
            )
        )
    pipe = diffusers.StableDiffusion3Pipeline(
        transformer=transformer,
        scheduler=diffusers.FlowMatchEulerDiscreteScheduler(shift=3.0),
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=build_tiny_clip_tokenizer(),
        text_encoder_2=text_encoder_2,
        tokenizer_2=build_tiny_clip_tokenizer(),
        text_encoder_3=text_encoder_3,
        tokenizer_3=t5_tokenizer,
    )
    _save(
        pipe,
        path,
        family="sd3",
        name="Tiny SD3 (random weights)",
        style=style,
        scheduler="euler",
        guidance=4.0,
        prediction="epsilon",
    )
    return path


def build_tiny_zimage(path: Path | str, *, seed: int = 0, style: str = "photorealistic") -> Path:
    """Build and save a tiny ``ZImagePipeline`` (native 64 px) into ``path``.

    A Qwen3 text encoder with a ChatML tokenizer, the single-stream Z-Image
    transformer (with its noise and caption refiners) and a 16-channel VAE with
    FLUX's shift/scale, as Z-Image-Turbo has. Its card sets guidance 0 (turbo).
    """
    path = Path(path)
    native = TINY_NATIVE["zimage"]
    tokenizer = build_tiny_qwen_tokenizer()
    with _seeded(seed):
        text_encoder = Qwen3Model(
            Qwen3Config(
                vocab_size=len(tokenizer),
                hidden_size=32,
                intermediate_size=37,
                num_hidden_layers=2,
                num_attention_heads=4,
                num_key_value_heads=2,
                head_dim=8,
                max_position_embeddings=512,
            )
        )
        transformer = diffusers.ZImageTransformer2DModel(
            all_patch_size=(2,),
            all_f_patch_size=(1,),
            in_channels=16,
            dim=32,
            n_layers=2,
            n_refiner_layers=1,
            n_heads=2,
            n_kv_heads=2,
            cap_feat_dim=32,  # the text encoder's width
            axes_dims=[8, 4, 4],  # sums to the head width (32 / 2)
            # Positions, not weights: the caption axis takes a 512-token prompt, as the
            # text encoder does (an avatar prompt with its guard is longer than 256).
            axes_lens=[1024, 128, 128],
        )
        vae = _tiny_vae16(sample_size=native, shift_factor=0.1159, scaling_factor=0.3611)
    pipe = diffusers.ZImagePipeline(
        scheduler=diffusers.FlowMatchEulerDiscreteScheduler(shift=3.0),
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        transformer=transformer,
    )
    _save(
        pipe,
        path,
        family="zimage",
        name="Tiny Z-Image (random weights)",
        style=style,
        scheduler="euler",
        guidance=0.0,
        prediction="epsilon",
    )
    return path


def build_tiny_model(family: TinyFamily, path: Path | str, *, seed: int = 0) -> Path:
    """Build the tiny pipeline of ``family`` (sd15, sdxl, sd3 or zimage) into ``path``."""
    builders = {
        "sd15": build_tiny_sd15,
        "sdxl": build_tiny_sdxl,
        "sd3": build_tiny_sd3,
        "zimage": build_tiny_zimage,
    }
    if family in builders:
        return builders[family](path, seed=seed)
    raise ValueError(f"unknown tiny family {family!r}; choose one of {', '.join(TINY_FAMILIES)}")
