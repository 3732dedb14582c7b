"""The transformers side of the VLM backend: load a Qwen2-VL folder, answer image + text.

Imported only when the backend first runs, because it imports torch and transformers.

``Qwen2VLProcessor`` is not used: it insists on a video processor, which needs
torchvision (not a dependency). Its two jobs are done here from the same parts:
the image processor turns each image into patches and a grid, and every image
placeholder of the chat template is expanded to one token per merged patch block.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import llguidance
import llguidance.hf
import torch
from PIL import Image
from transformers import AutoImageProcessor, AutoTokenizer, Qwen2VLForConditionalGeneration

from imajin.llm.backends.transformers_runtime import constrained_generate
from imajin.llm.errors import BackendNotInstalled
from imajin.llm.messages import Completion, CompletionRequest, Message


@dataclass(frozen=True)
class LoadedVLM:
    """A vision-language model ready to answer: weights, tokenizer, image processor."""

    name: str
    model: Any
    tokenizer: Any
    image_processor: Any
    grammar_tokenizer: llguidance.LLTokenizer
    image_token: str
    device: str

    def generate(self, request: CompletionRequest) -> Completion:
        """Answer ``request``; see :func:`generate`."""
        return generate(self, request)


def load_vlm(folder: Path, *, device: str, dtype: str, max_pixels: int | None = None) -> LoadedVLM:
    """Load the Qwen2-VL-class model, tokenizer and image processor in ``folder``."""
    tokenizer: Any = AutoTokenizer.from_pretrained(folder)
    if tokenizer.chat_template is None:
        tokenizer.chat_template = _processor_template(folder)
    overrides: dict[str, Any] = {} if max_pixels is None else {"max_pixels": max_pixels}
    processor_class: Any = AutoImageProcessor  # untyped in transformers
    image_processor: Any = processor_class.from_pretrained(folder, **overrides)
    # transformers 5 annotates from_pretrained through a decorator that mypy misreads.
    model_class: Any = Qwen2VLForConditionalGeneration
    model = model_class.from_pretrained(folder, dtype=getattr(torch, dtype))
    model.to(device).eval()
    image_token = tokenizer.convert_ids_to_tokens(model.config.image_token_id)
    return LoadedVLM(
        name=folder.name,
        model=model,
        tokenizer=tokenizer,
        image_processor=image_processor,
        grammar_tokenizer=llguidance.hf.from_tokenizer(tokenizer),
        image_token=image_token,
        device=device,
    )


def _processor_template(folder: Path) -> str:
    # Recent Qwen2-VL repos keep the template with the processor, not the tokenizer.
    for name in ("chat_template.jinja", "chat_template.json"):
        path = folder / name
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            return str(json.loads(text)["chat_template"]) if name.endswith(".json") else text
    raise BackendNotInstalled(
        f"The model in {folder} has no chat template (tokenizer_config.json, "
        "chat_template.jinja or chat_template.json); use an -Instruct model folder."
    )


def _chat(message: Message) -> dict[str, Any]:
    """A message as Qwen2-VL's chat template takes it: text, or image parts then the text."""
    if not message.images:
        return message.model_dump()
    parts: list[dict[str, Any]] = [{"type": "image"} for _ in message.images]
    parts.append({"type": "text", "text": message.content})
    return {"role": message.role, "content": parts}


def model_inputs(loaded: LoadedVLM, request: CompletionRequest) -> dict[str, Any]:
    """Token ids, attention mask and, when there are images, their patches and grids."""
    # 1. Render the conversation; each image becomes one placeholder token.
    text: str = loaded.tokenizer.apply_chat_template(
        [_chat(message) for message in request.messages], add_generation_prompt=True, tokenize=False
    )
    images = [
        Image.open(io.BytesIO(image.data)).convert("RGB")
        for message in request.messages
        for image in message.images
    ]
    vision: dict[str, Any] = {}
    if images:
        # 2. Patches per image; a placeholder stands for grid_t·grid_h·grid_w / merge² tokens.
        vision = dict(loaded.image_processor(images=images, return_tensors="pt"))
        merge = int(loaded.image_processor.merge_size) ** 2
        counts = [int(grid.prod()) // merge for grid in vision["image_grid_thw"]]
        pieces = text.split(loaded.image_token)
        if len(pieces) != len(counts) + 1:
            raise ValueError(
                f"the chat template placed {len(pieces) - 1} image tokens for {len(counts)} images"
            )
        text = pieces[0] + "".join(
            loaded.image_token * count + piece
            for count, piece in zip(counts, pieces[1:], strict=True)
        )
    encoded = loaded.tokenizer(text, return_tensors="pt")
    inputs: dict[str, Any] = {**dict(encoded), **vision}
    if images:
        # Multimodal RoPE needs to know which positions hold image tokens (type 1).
        image_id = loaded.model.config.image_token_id
        inputs["mm_token_type_ids"] = (encoded["input_ids"] == image_id).to(torch.int32)
    moved = {name: value.to(loaded.device) for name, value in inputs.items()}
    if "pixel_values" in moved:  # the vision tower runs in the weights' dtype
        moved["pixel_values"] = moved["pixel_values"].to(loaded.model.dtype)
    return moved


def generate(loaded: LoadedVLM, request: CompletionRequest) -> Completion:
    """Answer ``request`` (images included); constrained to ``request.json_schema`` if given.

    Raises:
        LLMTimeout: Generation ran past ``request.timeout_s``.
        InvalidSchema: The schema cannot be compiled for constrained decoding.
    """
    return constrained_generate(
        model=loaded.model,
        tokenizer=loaded.tokenizer,
        grammar_tokenizer=loaded.grammar_tokenizer,
        inputs=model_inputs(loaded, request),
        request=request,
        name=loaded.name,
    )
