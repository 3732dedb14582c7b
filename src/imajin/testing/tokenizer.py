"""A CLIP tokenizer built on the spot, so tiny pipelines need no model hub.

The vocabulary is CLIP's byte-level alphabet (256 symbols), each symbol again
with the end-of-word marker ``</w>``, and the two special tokens. There are no
merges, so every word tokenizes character by character: enough to exercise the
real tokenizer class and to give different prompts different embeddings.
"""

from __future__ import annotations

import string

from transformers import CLIPTokenizer, Qwen2Tokenizer, T5Tokenizer

BOS_TOKEN = "<|startoftext|>"  # noqa: S105 - token names, not passwords
EOS_TOKEN = "<|endoftext|>"  # noqa: S105
MAX_LENGTH = 77  # CLIP's context length; the real pipelines assume it


def byte_level_alphabet() -> list[str]:
    """The 256 printable stand-ins byte-level BPE uses for the bytes 0-255 (GPT-2's table)."""
    printable = [
        *range(ord("!"), ord("~") + 1),
        *range(ord("¡"), ord("¬") + 1),
        *range(ord("®"), ord("ÿ") + 1),
    ]
    codes = list(printable)
    extra = 0
    for byte in range(256):
        if byte not in printable:
            codes.append(256 + extra)
            extra += 1
    return [chr(code) for code in codes]


def tiny_clip_vocab() -> dict[str, int]:
    """Token → id: the alphabet, the alphabet with ``</w>``, then BOS and EOS."""
    alphabet = byte_level_alphabet()
    tokens = [*alphabet, *(symbol + "</w>" for symbol in alphabet), BOS_TOKEN, EOS_TOKEN]
    return {token: index for index, token in enumerate(tokens)}


def build_tiny_clip_tokenizer() -> CLIPTokenizer:
    """A real ``CLIPTokenizer`` over :func:`tiny_clip_vocab` (514 tokens, 77 positions)."""
    return CLIPTokenizer(vocab=tiny_clip_vocab(), merges=[], model_max_length=MAX_LENGTH)


T5_MAX_LENGTH = 256  # SD3's default ``max_sequence_length``


def build_tiny_t5_tokenizer() -> T5Tokenizer:
    """A real ``T5Tokenizer`` over ASCII characters (pad, eos, unk first, as T5 expects)."""
    vocab: list[tuple[str, float]] = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0), ("▁", -2.0)]
    vocab += [(char, -3.0) for char in string.printable.strip()]
    vocab += [("▁" + char, -2.5) for char in string.ascii_lowercase]
    return T5Tokenizer(vocab=vocab, extra_ids=0, model_max_length=T5_MAX_LENGTH)


QWEN_SPECIAL_TOKENS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>")
_CHATML_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{{ message['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def build_tiny_qwen_tokenizer() -> Qwen2Tokenizer:
    """A real ``Qwen2Tokenizer`` (byte-level BPE) with ChatML special tokens and template."""
    vocab = {symbol: index for index, symbol in enumerate(byte_level_alphabet())}
    vocab[QWEN_SPECIAL_TOKENS[0]] = len(vocab)
    tokenizer = Qwen2Tokenizer(vocab=vocab, merges=[], model_max_length=512)
    tokenizer.add_special_tokens({"additional_special_tokens": list(QWEN_SPECIAL_TOKENS[1:])})
    tokenizer.chat_template = _CHATML_TEMPLATE
    return tokenizer


QWEN_VL_SPECIAL_TOKENS = ("<|vision_start|>", "<|vision_end|>", "<|image_pad|>", "<|video_pad|>")
# Qwen2-VL's template, cut to what imajin sends: string content, or parts of type
# image (one placeholder each, expanded to the image's tokens later) and text.
_QWEN_VL_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}"
    "{% else %}{% for part in message['content'] %}"
    "{% if part['type'] == 'image' %}<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif part['type'] == 'text' %}{{ part['text'] }}{% endif %}"
    "{% endfor %}{% endif %}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def build_tiny_qwen_vl_tokenizer() -> Qwen2Tokenizer:
    """:func:`build_tiny_qwen_tokenizer` plus Qwen2-VL's vision tokens and image-aware template.

    Its end-of-sequence token is ``<|im_end|>``, as in Qwen2-VL-Instruct, so a
    constrained decoder ends answers the way the real model does.
    """
    tokenizer = build_tiny_qwen_tokenizer()
    tokenizer.add_special_tokens(
        {
            "additional_special_tokens": [*QWEN_SPECIAL_TOKENS[1:], *QWEN_VL_SPECIAL_TOKENS],
            "eos_token": "<|im_end|>",
            "pad_token": QWEN_SPECIAL_TOKENS[0],
        }
    )
    tokenizer.chat_template = _QWEN_VL_TEMPLATE
    tokenizer.model_max_length = 4096  # one token per byte: questions run to thousands
    return tokenizer
