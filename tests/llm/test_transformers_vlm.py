"""The transformers vision-language backend on a tiny random-weight Qwen2-VL (real classes).

A random model says nothing sensible; these tests hold the plumbing: images become
patches and the right number of image tokens, the real model runs on them, and
constrained decoding turns its output into schema-valid JSON.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Literal

import numpy as np
import pytest
from PIL import Image
from pydantic import BaseModel, Field, ValidationError
from skimage import data

from imajin.llm import (
    BackendNotInstalled,
    CallPolicy,
    CompletionRequest,
    LLMClient,
    LLMRegistry,
    LLMSettings,
    LLMTimeout,
    Message,
)
from imajin.llm.backends.transformers_vlm import TransformersVLMBackend, TransformersVLMOptions


def jpeg(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="JPEG")
    return buffer.getvalue()


PHOTO = np.ascontiguousarray(data.astronaut()[..., :3])
QUESTION = [
    Message.system("Describe the person."),
    Message.user("Face first, then the photo.", images=[jpeg(PHOTO[60:170, 170:280]), jpeg(PHOTO)]),
]


class Look(BaseModel):
    hair: Literal["dark", "fair", "none"]
    smiling: bool
    note: str = Field(max_length=12)


@pytest.fixture(scope="module")
def backend(tiny_qwen2_vl_path: Path) -> TransformersVLMBackend:
    options = TransformersVLMOptions(model_path=tiny_qwen2_vl_path)
    vlm = TransformersVLMBackend(options)
    vlm.load()
    return vlm


def request(
    messages: list[Message], *, max_tokens: int = 8, timeout_s: float = 60
) -> CompletionRequest:
    return CompletionRequest(
        messages=tuple(messages),
        max_tokens=max_tokens,
        temperature=0.0,
        seed=0,
        timeout_s=timeout_s,
    )


def test_images_become_one_token_per_merged_patch_block(backend: TransformersVLMBackend) -> None:
    from imajin.llm.backends.transformers_vlm_runtime import model_inputs  # noqa: PLC0415

    loaded = backend._ensure_loaded()
    inputs = model_inputs(loaded, request(QUESTION))

    grids = inputs["image_grid_thw"]
    assert grids.shape == (2, 3)
    patches = int(grids.prod(dim=1).sum())
    assert inputs["pixel_values"].shape[0] == patches
    image_id = loaded.model.config.image_token_id
    assert int((inputs["input_ids"] == image_id).sum()) == patches // 4  # 2×2 merge
    assert bool((inputs["mm_token_type_ids"] == (inputs["input_ids"] == image_id)).all())


def test_the_model_answers_an_image_question_with_text(backend: TransformersVLMBackend) -> None:
    answer = backend.complete(request(QUESTION, max_tokens=6))

    assert isinstance(answer.text, str) and answer.text
    assert answer.finish_reason == "length"  # random weights do not stop on their own
    # Greedy and seeded: the same question gets the same answer.
    assert backend.complete(request(QUESTION, max_tokens=6)) == answer


def test_the_images_reach_the_model(backend: TransformersVLMBackend) -> None:
    # Same text, other pixels: if images were dropped on the way, the logits would match.
    import torch  # noqa: PLC0415

    from imajin.llm.backends.transformers_vlm_runtime import model_inputs  # noqa: PLC0415

    loaded = backend._ensure_loaded()
    inverted = [QUESTION[0], Message.user(QUESTION[1].content, images=[jpeg(255 - PHOTO)] * 2)]
    with torch.inference_mode():
        logits = [
            loaded.model(**model_inputs(loaded, request(question))).logits[0, -1]
            for question in (QUESTION, inverted, QUESTION)
        ]

    assert not torch.allclose(logits[0], logits[1])
    assert torch.equal(logits[0], logits[2])


def test_constrained_decoding_gives_schema_valid_json(backend: TransformersVLMBackend) -> None:
    client = LLMClient.for_backend(
        backend, policy=CallPolicy(max_tokens=64, output_retries=0, schema_in_prompt=False)
    )

    answer = client.complete_structured(QUESTION, Look)

    assert isinstance(answer, Look)
    assert len(answer.note) <= 12


def test_a_deadline_stops_generation(backend: TransformersVLMBackend) -> None:
    with pytest.raises(LLMTimeout, match="did not finish within"):
        backend.complete(request(QUESTION, max_tokens=4000, timeout_s=0.05))


def test_options_need_exactly_one_source(tiny_qwen2_vl_path: Path) -> None:
    with pytest.raises(ValidationError, match="exactly one of model_path"):
        TransformersVLMOptions()
    with pytest.raises(ValidationError, match="exactly one of model_path"):
        TransformersVLMOptions(model_path=tiny_qwen2_vl_path, model="Qwen/Qwen2-VL-2B-Instruct")


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        ({"model": "imajin-test/absent-vl"}, "huggingface-cli download imajin-test/absent-vl"),
        ({"model_path": "/nonexistent/vl"}, "holds no config.json"),
    ],
)
def test_a_model_not_on_disk_fails_at_start_up(
    options: dict[str, str], problem: str, tmp_path: Path
) -> None:
    settings = LLMSettings.model_validate(
        {
            "default_model": "vl",
            "models": {
                "vl": {
                    "backend": "transformers-vlm",
                    "options": {**options, "cache_dir": str(tmp_path)},
                }
            },
        }
    )
    with pytest.raises(BackendNotInstalled, match=problem):
        LLMRegistry(settings)


def test_the_backend_declares_vision(tiny_qwen2_vl_path: Path) -> None:
    settings = LLMSettings.model_validate(
        {
            "default_model": "vl",
            "models": {
                "vl": {
                    "backend": "transformers-vlm",
                    "options": {"model_path": str(tiny_qwen2_vl_path)},
                }
            },
        }
    )
    assert LLMRegistry(settings).sees_images("vl")
