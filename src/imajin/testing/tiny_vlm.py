"""A tiny random-weight Qwen2-VL, saved like a downloaded model folder (offline).

The real transformers classes (``Qwen2VLForConditionalGeneration`` with its vision
tower, ``Qwen2VLImageProcessorPil``, a byte-level ``Qwen2Tokenizer``) with a few
channels: about 110k parameters, built in well under a second, answering an
image-and-text question on a CPU in a fraction of one. Its text is random bytes,
so JSON from it needs constrained decoding.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from transformers import Qwen2VLConfig, Qwen2VLForConditionalGeneration, Qwen2VLImageProcessorPil

from imajin.testing.tokenizer import build_tiny_qwen_vl_tokenizer

# Images are scaled into this many 28×28 blocks (after 2×2 merging: one token each),
# so two images cost at most 32 tokens of the tiny model's context.
_MIN_BLOCKS, _MAX_BLOCKS = 4, 16


def build_tiny_qwen2_vl(out: Path, *, seed: int = 0) -> Path:
    """Write a tiny Qwen2-VL (weights, tokenizer, image processor) to ``out``; returns ``out``.

    A folder already holding a built model is reused (the weights are written last).
    """
    if (out / "model.safetensors").is_file():
        return out
    tokenizer = build_tiny_qwen_vl_tokenizer()

    def token(name: str) -> int:
        return int(tokenizer.convert_tokens_to_ids(name))  # type: ignore[arg-type]

    config = Qwen2VLConfig(
        text_config={
            "vocab_size": len(tokenizer),
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_hidden_layers": 2,
            "num_attention_heads": 4,
            "num_key_value_heads": 2,
            "max_position_embeddings": 4096,
            # Multimodal RoPE splits each head's 8 rotary pairs over time, height, width.
            "rope_parameters": {
                "rope_type": "default",
                "rope_theta": 10000.0,
                "mrope_section": [2, 1, 1],
            },
            "bos_token_id": token("<|endoftext|>"),
            "eos_token_id": token("<|im_end|>"),
            "pad_token_id": token("<|endoftext|>"),
        },
        vision_config={
            "depth": 2,
            "embed_dim": 32,
            "hidden_size": 32,
            "mlp_ratio": 2,
            "num_heads": 4,
            "patch_size": 14,
            "spatial_merge_size": 2,
            "temporal_patch_size": 2,
        },
        image_token_id=token("<|image_pad|>"),
        video_token_id=token("<|video_pad|>"),
        vision_start_token_id=token("<|vision_start|>"),
        vision_end_token_id=token("<|vision_end|>"),
    )
    image_processor = Qwen2VLImageProcessorPil(
        min_pixels=_MIN_BLOCKS * 28 * 28,
        max_pixels=_MAX_BLOCKS * 28 * 28,
        patch_size=14,
        merge_size=2,
        temporal_patch_size=2,
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model: Any = Qwen2VLForConditionalGeneration(config)
    model.eval()
    out.mkdir(parents=True, exist_ok=True)
    tokenizer.save_pretrained(out)
    image_processor.save_pretrained(out)
    model.save_pretrained(out)
    return out
