"""The transformers side of the GGUF backend: load a GGUF, generate under a schema and deadline.

Imported only when the backend first runs, because it imports torch and transformers.

Constrained decoding is built on llguidance (MIT, Microsoft; the engine behind
structured output in vLLM, SGLang and llama.cpp): it compiles a JSON schema into a
grammar and computes, per step, which tokens keep the output inside it.
``llguidance.torch`` is not used: it calls ``torch.compile``, which needs a C
compiler and is slow to warm up on CPU.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, cast

import llguidance
import llguidance.hf
import numpy as np
import torch
from transformers import (
    AutoModelForCausalLM,
    AutoTokenizer,
    LogitsProcessor,
    LogitsProcessorList,
    StoppingCriteria,
    StoppingCriteriaList,
)

from imajin.llm.errors import InvalidSchema, LLMTimeout
from imajin.llm.messages import Completion, CompletionRequest
from imajin.llm.structured import closed_schema


@dataclass(frozen=True)
class LoadedModel:
    """A model ready to generate: weights, tokenizer, and the tokenizer's grammar view."""

    name: str
    model: Any
    tokenizer: Any
    grammar_tokenizer: llguidance.LLTokenizer
    device: str

    def generate(self, request: CompletionRequest) -> Completion:
        """Answer ``request``; see :func:`generate`."""
        return generate(self, request)


def load_gguf(path: Path, *, device: str, dtype: str) -> LoadedModel:
    """Load the chat model and tokenizer in the GGUF file ``path``, de-quantised to ``dtype``."""
    folder, name = str(path.parent), path.name
    tokenizer: Any = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    # transformers 5 annotates from_pretrained through a decorator that mypy misreads.
    model_class: Any = AutoModelForCausalLM
    model = model_class.from_pretrained(folder, gguf_file=name, dtype=getattr(torch, dtype))
    model.to(device).eval()
    # Building the grammar view walks the whole vocabulary (about a second): once per model.
    return LoadedModel(name, model, tokenizer, llguidance.hf.from_tokenizer(tokenizer), device)


def generate(loaded: LoadedModel, request: CompletionRequest) -> Completion:
    """Answer ``request``; constrained to ``request.json_schema`` when one is given.

    Raises:
        LLMTimeout: Generation ran past ``request.timeout_s``.
        InvalidSchema: The schema cannot be compiled for constrained decoding.
    """
    tokenizer = loaded.tokenizer
    # 1. Prompt through the model's own chat template.
    inputs = tokenizer.apply_chat_template(
        [message.model_dump() for message in request.messages],
        add_generation_prompt=True,
        return_dict=True,
        return_tensors="pt",
    ).to(loaded.device)
    return constrained_generate(
        model=loaded.model,
        tokenizer=tokenizer,
        grammar_tokenizer=loaded.grammar_tokenizer,
        inputs=inputs,
        request=request,
        name=loaded.name,
    )


def constrained_generate(
    *,
    model: Any,
    tokenizer: Any,
    grammar_tokenizer: llguidance.LLTokenizer,
    inputs: Mapping[str, Any],
    request: CompletionRequest,
    name: str,
) -> Completion:
    """Generate from prepared model ``inputs`` (``input_ids`` and any others ``generate`` takes).

    Shared by the text and the vision-language backends: schema constraint, deadline,
    seeded sampling and decoding are the same for both.

    Raises:
        LLMTimeout: Generation ran past ``request.timeout_s``.
        InvalidSchema: The schema cannot be compiled for constrained decoding.
    """
    prompt_length = int(inputs["input_ids"].shape[1])
    # 2. Constrain to the schema, and stop at the deadline.
    processors = LogitsProcessorList()
    if request.json_schema is not None:
        matcher = schema_matcher(grammar_tokenizer, request.json_schema)
        processors.append(GrammarLogitsProcessor(matcher, prompt_length=prompt_length))
    deadline = DeadlineCriteria(request.timeout_s)
    # 3. Generate: greedy unless a temperature is set; seeded without touching the global RNG.
    sampling: dict[str, Any] = {"do_sample": False}
    if request.temperature > 0:
        sampling = {"do_sample": True, "temperature": request.temperature}
    with torch.inference_mode(), torch.random.fork_rng(devices=[]):
        if request.seed is not None:
            torch.manual_seed(request.seed)
        output = model.generate(
            **inputs,
            **sampling,
            max_new_tokens=request.max_tokens,
            logits_processor=processors,
            stopping_criteria=StoppingCriteriaList([deadline]),
            pad_token_id=tokenizer.eos_token_id,
        )
    if deadline.expired:
        raise LLMTimeout(
            f"The local model {name} did not finish within the {request.timeout_s:g} s "
            "timeout; raise llm.timeout_s, lower max_tokens, or use a smaller model.",
            retryable=False,  # it would take as long again
        )
    # 4. Decode; ending without the end-of-turn token means max_tokens cut it off.
    new_tokens = output[0, prompt_length:].tolist()
    text = tokenizer.decode(new_tokens, skip_special_tokens=True)
    ended = tokenizer.eos_token_id in new_tokens
    return Completion(text=text, finish_reason="stop" if ended else "length")


@lru_cache(maxsize=64)
def _grammar(schema_json: str) -> str:
    # Compact JSON only: with free whitespace, small models tend to emit newlines until
    # max_tokens runs out, which then fails validation.
    grammar = llguidance.LLMatcher.grammar_from_json_schema(
        schema_json, defaults={"whitespace_flexible": False}
    )
    is_error, messages = llguidance.LLMatcher.validate_grammar_with_warnings(grammar)
    if is_error:
        raise InvalidSchema(
            f"The JSON schema cannot be used for constrained decoding: {'; '.join(messages)}. "
            "Simplify the output type (plain objects, strings, enums, numbers, lists)."
        )
    return grammar


def schema_matcher(
    tokenizer: llguidance.LLTokenizer, schema: dict[str, Any]
) -> llguidance.LLMatcher:
    """A fresh matcher for the JSON documents ``schema`` allows, with no unlisted keys.

    Raises:
        InvalidSchema: llguidance cannot compile the schema.
    """
    grammar = _grammar(json.dumps(closed_schema(schema), sort_keys=True))
    matcher = llguidance.LLMatcher(tokenizer, grammar)
    if matcher.is_error():
        raise InvalidSchema(f"The JSON schema cannot be used: {matcher.get_error()}")
    return matcher


class GrammarLogitsProcessor(LogitsProcessor):
    """Masks every token the matcher forbids (batch size 1, as the backend generates).

    Args:
        matcher: The grammar state, advanced here with every generated token.
        prompt_length: Tokens of the prompt, which the matcher must not consume.
    """

    def __init__(self, matcher: llguidance.LLMatcher, *, prompt_length: int) -> None:
        self.matcher = matcher
        self._consumed = prompt_length

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        # Feed the tokens generated since the last step (one, except on the first call).
        for token in input_ids[0, self._consumed :].tolist():
            if not self.matcher.consume_token(token):
                raise RuntimeError(f"constrained decoding lost sync: {self.matcher.get_error()}")
        self._consumed = input_ids.shape[1]
        bits = np.unpackbits(
            np.frombuffer(self.matcher.compute_bitmask(), dtype=np.uint8), bitorder="little"
        )
        allowed = torch.zeros(scores.shape[-1], dtype=torch.bool, device=scores.device)
        shared = min(bits.shape[0], scores.shape[-1])
        allowed[:shared] = torch.from_numpy(bits[:shared].astype(bool))
        return cast("torch.FloatTensor", scores.masked_fill(~allowed, float("-inf")))


class DeadlineCriteria(StoppingCriteria):
    """Ends generation once ``seconds`` have passed; ``expired`` tells whether it did."""

    def __init__(self, seconds: float) -> None:
        self._until = time.monotonic() + seconds
        self.expired = False

    def __call__(
        self, input_ids: torch.LongTensor, scores: torch.FloatTensor, **kwargs: Any
    ) -> torch.BoolTensor:
        self.expired = time.monotonic() > self._until
        done = torch.full((input_ids.shape[0],), self.expired, dtype=torch.bool)
        return cast("torch.BoolTensor", done.to(input_ids.device))
