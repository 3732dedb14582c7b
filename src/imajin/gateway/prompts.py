"""The gateway's LLM steps: shorten, expand (per policy) and caption, from YAML data.

Chat text goes into the instructions as JSON strings (:func:`quote`, as the
assistant does), so a message that says "ignore your instructions" is only a
description of a picture. Every answer is a JSON object validated by pydantic.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field

from imajin.assistant.rule_one import quote
from imajin.contracts.gateway import ChatTurn
from imajin.errors import ConfigError
from imajin.llm import LLMClient, Message

SHORTEN_OVER_WORDS = 25
CAPTION_WORDS = (10, 15)
CAPTION_ATTEMPTS = 2


class _Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ShortAnswer(_Answer):
    message: str = Field(min_length=1, max_length=400)


class PromptAnswer(_Answer):
    prompt: str = Field(min_length=1, max_length=1500)


class CaptionAnswer(_Answer):
    caption: str = Field(min_length=1, max_length=400)


@dataclass(frozen=True)
class Instructions:
    shorten: str
    expand_common: str
    expand_by_policy: dict[str, str]
    caption: str

    @classmethod
    def load(cls, path: str | Path | None = None) -> Instructions:
        """The shipped instructions, or the operator's file.

        Raises:
            ConfigError: The file is missing a key.
        """
        if path is None:
            text = resources.files("imajin.gateway").joinpath("prompts.yaml").read_text("utf-8")
        else:
            text = Path(path).read_text(encoding="utf-8")
        data: dict[str, Any] = yaml.safe_load(text) or {}
        try:
            expand = data["expand"]
            return cls(
                shorten=str(data["shorten"]),
                expand_common=str(expand["common"]),
                expand_by_policy={
                    name: str(expand.get(name) or "")
                    for name in ("unrestricted", "moderated", "sfw")
                },
                caption=str(data["caption"]),
            )
        except (KeyError, TypeError) as exc:
            raise ConfigError(
                f"gateway prompts file lacks {exc}", field="gateway.prompts_file"
            ) from None


def _render(template: str, **values: str) -> str:
    # str.replace, not str.format: quoted chat text may itself contain braces.
    for name, value in values.items():
        template = template.replace("{" + name + "}", value)
    return template


def word_count(text: str) -> int:
    return len(text.split())


def trim_words(text: str, limit: int) -> str:
    """``text`` cut at a word boundary after ``limit`` words."""
    return " ".join(text.split()[:limit])


class PromptSteps:
    """Runs the three LLM steps; the stage name goes with any LLM error (see the service)."""

    def __init__(self, *, llm: LLMClient, instructions: Instructions) -> None:
        self._llm = llm
        self._instructions = instructions

    def shorten(self, message: str) -> str | None:
        """A 25-word version of a longer message; None when it is short already."""
        if word_count(message) <= SHORTEN_OVER_WORDS:
            return None
        text = _render(self._instructions.shorten, message=quote(message))
        answer = self._llm.complete_structured([Message.system(text)], ShortAnswer)
        return trim_words(answer.message, SHORTEN_OVER_WORDS)

    def expand(
        self, *, message: str, history: list[ChatTurn], persona: str | None, policy: str
    ) -> str:
        text = _render(
            self._instructions.expand_common,
            message=quote(message),
            history=quote([turn.model_dump() for turn in history]),
            persona=quote(persona or ""),
        )
        extra = self._instructions.expand_by_policy.get(policy, "")
        instructions = f"{text}\n{extra}".strip()
        return self._llm.complete_structured([Message.system(instructions)], PromptAnswer).prompt

    def caption(self, prompt: str) -> str:
        """A 10–15 word caption: asked again once when outside, then trimmed."""
        text = _render(self._instructions.caption, prompt=quote(prompt))
        low, high = CAPTION_WORDS
        caption = ""
        for _attempt in range(CAPTION_ATTEMPTS):
            caption = self._llm.complete_structured([Message.system(text)], CaptionAnswer).caption
            if low <= word_count(caption) <= high:
                return caption
        # A short caption stays short (nothing to invent); a long one is cut at a word.
        return trim_words(caption, high)
