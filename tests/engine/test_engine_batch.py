"""Batched generation: compatible requests share one pipeline call, each image its own."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import diffusers
import numpy as np
import pytest
import torch

from imajin.engine import Engine, GenerationCancelled
from imajin.engine.batching import BatchRequest
from imajin.engine.invariance import make_batch_invariant

# On CPU the engine makes batched images equal to the images made alone (engine/invariance.py).

ITEMS = [
    {"prompt": "a red fox", "negative_prompt": "blur", "seed": 1},
    {"prompt": "a lighthouse on a cliff at dusk", "negative_prompt": "noise", "seed": 2},
    {"prompt": "a bowl of lemons", "negative_prompt": "text", "seed": 3},
]
SUBJECTS = ["a red fox", "a lighthouse", "a bowl of lemons", "a sailing boat"]


def pixels(result: Any, index: int = 0) -> np.ndarray:
    return np.asarray(result.images[index].image).astype(np.int16)


@pytest.mark.parametrize("model", ["tiny-sd15", "tiny-sdxl"])
def test_batched_images_match_the_images_made_alone(
    make_engine: Callable[..., tuple[Engine, Any]], model: str
) -> None:
    engine, _ = make_engine(max_batch=4)
    alone = [engine.generate({**item, "model": model}) for item in ITEMS]
    batched = engine.generate_batch([BatchRequest({**item, "model": model}) for item in ITEMS])
    for single, together in zip(alone, batched, strict=True):
        assert not isinstance(together, Exception)
        assert together.batch_size == len(ITEMS)
        assert single.batch_size == 1
        assert together.images[0].parameters == single.images[0].parameters
        assert np.array_equal(pixels(single), pixels(together))
    # Each image kept its own prompt and seed: no two batched images are alike.
    first, second = (pixels(result) for result in batched[:2])  # type: ignore[arg-type]
    assert np.abs(first - second).mean() > 10


def test_a_batch_of_one_is_bit_identical_to_generate(
    make_engine: Callable[..., tuple[Engine, Any]],
) -> None:
    engine, _ = make_engine(max_batch=4)
    request = {**ITEMS[0], "model": "tiny-sdxl"}
    (batched,) = engine.generate_batch([BatchRequest(request)])
    assert not isinstance(batched, Exception)
    assert np.array_equal(pixels(engine.generate(request)), pixels(batched))


def test_max_batch_splits_calls_and_groups_by_shape(
    make_engine: Callable[..., tuple[Engine, Any]],
) -> None:
    engine, _ = make_engine(max_batch=2)
    items = [
        BatchRequest({"prompt": "a fox", "model": "tiny-sd15", "seed": 5, "num_images": 3}),
        BatchRequest({"prompt": "a fox", "model": "tiny-sd15", "seed": 5, "steps": 2}),
        BatchRequest({"prompt": "a fox", "model": "no-such-model"}),
    ]
    first, other_steps, unknown = engine.generate_batch(items)
    assert not isinstance(first, Exception) and not isinstance(other_steps, Exception)
    assert [image.parameters.seed for image in first.images] == [5, 6, 7]
    assert first.batch_size == 2
    assert other_steps.batch_size == 1  # different steps: its own call
    assert isinstance(unknown, Exception)  # an invalid item fails alone


def test_a_cancelled_item_leaves_its_neighbours_whole(
    make_engine: Callable[..., tuple[Engine, Any]],
) -> None:
    engine, _ = make_engine(max_batch=4)
    steps_seen: list[int] = []

    def cancel_after_two() -> bool:
        return len(steps_seen) >= 2

    items = [
        BatchRequest({**ITEMS[0], "model": "tiny-sd15"}),
        BatchRequest(
            {**ITEMS[1], "model": "tiny-sd15"},
            progress=lambda progress: steps_seen.append(progress.step),
            cancel=cancel_after_two,
        ),
        BatchRequest({**ITEMS[2], "model": "tiny-sd15"}),
    ]
    kept, cancelled, also_kept = engine.generate_batch(items)
    assert isinstance(cancelled, GenerationCancelled)
    assert steps_seen == [1, 2]
    alone = engine.generate({**ITEMS[2], "model": "tiny-sd15"})
    assert not isinstance(also_kept, Exception) and not isinstance(kept, Exception)
    assert also_kept.batch_size == 3
    assert np.array_equal(pixels(alone), pixels(also_kept))


def test_default_max_batch_is_one_on_cpu(make_engine: Callable[..., tuple[Engine, Any]]) -> None:
    engine, _ = make_engine()
    spec = engine.registry.resolve("tiny-sd15", allow_paths=True)
    assert engine.max_batch_for(spec) == 1
    engine, _ = make_engine(max_batch=2, max_batches={"tiny-sd15": 6})
    assert engine.max_batch_for(spec) == 6
    assert engine.max_batch_for(engine.registry.resolve("tiny-sdxl", allow_paths=True)) == 2


def test_batched_images_with_a_lora_equal_the_images_made_alone(
    make_engine: Callable[..., tuple[Engine, Any]],
) -> None:
    # The adapters' own layers, added after the model loaded, take the batch-invariant path.
    engine, _ = make_engine(max_batch=4)
    loras = [{"id": "tiny-sd15-a", "weight": 0.8}]
    requests = [{**item, "model": "tiny-sd15", "loras": loras} for item in ITEMS]
    alone = [engine.generate(request) for request in requests]
    batched = engine.generate_batch([BatchRequest(request) for request in requests])
    for single, together in zip(alone, batched, strict=True):
        assert not isinstance(together, Exception) and together.batch_size == len(ITEMS)
        assert np.array_equal(pixels(single), pixels(together))
    plain = engine.generate({**ITEMS[0], "model": "tiny-sd15"})
    assert not np.array_equal(pixels(plain), pixels(alone[0]))  # the LoRA did change it


def test_batched_prompts_encode_as_they_do_alone(tiny_sdxl_path: Path) -> None:
    # The tiny CLIP MLP is 37 wide: at 8 prompts (or 4) the activation's tensor ends inside
    # the last prompt, where its last values took scalar code until activations ran once
    # per prompt; the images then differed by one level in a few pixels.
    pipe = diffusers.StableDiffusionXLPipeline.from_pretrained(tiny_sdxl_path)
    make_batch_invariant(pipe)
    prompts = [f"{subject} {place}" for subject in SUBJECTS for place in ("at dusk", "at noon")]
    for encoder, tokenizer in (
        (pipe.text_encoder, pipe.tokenizer),
        (pipe.text_encoder_2, pipe.tokenizer_2),
    ):
        ids = tokenizer(prompts, padding="max_length", truncation=True, return_tensors="pt")
        with torch.no_grad():
            together = encoder(ids.input_ids, output_hidden_states=True).hidden_states
            for index in range(len(prompts)):
                row = ids.input_ids[index : index + 1]
                alone = encoder(row, output_hidden_states=True).hidden_states
                for layer, (one, many) in enumerate(zip(alone, together, strict=True)):
                    assert torch.equal(one[0], many[index]), (type(encoder).__name__, layer)
