"""Structured output: ask for a pydantic type, validate the answer, feed problems back.

:class:`StructuredConversation` holds the state of one structured question so the
sync and async clients share every step but the sending.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from imajin.llm.errors import LLMOutputError
from imajin.llm.messages import Completion, Message

OutputT = TypeVar("OutputT", bound=BaseModel)

_FENCE = re.compile(r"^```[a-zA-Z0-9_-]*\s*\n(?P<body>.*?)\n?```$", re.DOTALL)
_NAME_CHARS = re.compile(r"[^a-zA-Z0-9_-]")
# Keywords whose values are subschemas (maps of them, lists of them, or one).
_SCHEMA_MAPS = frozenset({"properties", "$defs", "definitions", "patternProperties"})
_SCHEMA_LISTS = frozenset({"anyOf", "oneOf", "allOf", "prefixItems"})
_SCHEMA_VALUES = frozenset({"items", "additionalProperties", "not", "contains"})
# Enough of a bad answer to see what went wrong, short enough for a log line.
_SHOWN_CHARS = 300


def schema_name(output_type: type[BaseModel]) -> str:
    """``output_type``'s name as OpenAI-style servers accept it: ``[a-zA-Z0-9_-]{1,64}``."""
    return _NAME_CHARS.sub("_", output_type.__name__)[:64] or "answer"


def closed_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``schema`` in which every object without ``additionalProperties`` forbids extras.

    JSON Schema allows unlisted keys by default, and pydantic's schemas rely on that;
    a decoder constrained by such a schema lets a small model ramble in invented keys,
    and OpenAI's strict mode refuses open objects outright.
    """
    closed: dict[str, Any] = {}
    for key, value in schema.items():
        if key in _SCHEMA_MAPS and isinstance(value, dict):
            closed[key] = {name: _closed(sub) for name, sub in value.items()}
        elif key in _SCHEMA_LISTS and isinstance(value, list):
            closed[key] = [_closed(sub) for sub in value]
        elif key in _SCHEMA_VALUES:
            closed[key] = _closed(value)
        else:
            closed[key] = value
    if (schema.get("type") == "object" or "properties" in schema) and (
        "additionalProperties" not in schema
    ):
        closed["additionalProperties"] = False
    return closed


def _closed(node: Any) -> Any:
    return closed_schema(node) if isinstance(node, dict) else node


def with_schema_instruction(messages: Sequence[Message], schema: dict[str, Any]) -> list[Message]:
    """``messages`` with the JSON schema described in the (first) system message.

    The description joins an existing leading system message rather than adding a
    second one, because some chat templates accept a system message only first.
    """
    instruction = (
        "Reply with one JSON object and nothing else. It must conform to this JSON schema:\n"
        + json.dumps(schema, separators=(",", ":"), ensure_ascii=False)
    )
    if messages and messages[0].role == "system":
        first = Message.system(f"{messages[0].content}\n\n{instruction}")
        return [first, *messages[1:]]
    return [Message.system(instruction), *messages]


def strip_code_fence(text: str) -> str:
    """``text`` without a surrounding Markdown code fence, which chat models like to add."""
    stripped = text.strip()
    match = _FENCE.match(stripped)
    return match.group("body").strip() if match else stripped


def describe_validation_error(error: ValidationError) -> str:
    """The validation problems of ``error`` on one line: ``field: problem; ...``."""
    problems = []
    for item in error.errors(include_url=False):
        where = ".".join(str(part) for part in item["loc"]) or "(whole answer)"
        problems.append(f"{where}: {item['msg']}")
    return "; ".join(problems)


class StructuredConversation(Generic[OutputT]):
    """One structured question: the messages to send next, and what each answer taught.

    Args:
        messages: The caller's conversation.
        output_type: The pydantic type the answer must validate into.
        attempts: How many answers to ask for at most (1 + output retries).
        schema_in_prompt: Whether to describe the schema in the system message.
        model_id: The model asked, for the error message.
    """

    def __init__(
        self,
        messages: Sequence[Message],
        output_type: type[OutputT],
        *,
        attempts: int,
        schema_in_prompt: bool,
        model_id: str,
    ) -> None:
        self.output_type = output_type
        self.schema = output_type.model_json_schema()
        self.name = schema_name(output_type)
        self.max_attempts = attempts
        self.model_id = model_id
        self.messages = (
            with_schema_instruction(messages, self.schema) if schema_in_prompt else list(messages)
        )
        self._last_output = ""
        self._last_problem = ""

    def attempts(self) -> Iterator[int]:
        """Attempt numbers, 1-based, as many as allowed."""
        return iter(range(1, self.max_attempts + 1))

    def accept(self, completion: Completion, *, max_tokens: int) -> OutputT | None:
        """The validated answer, or None after recording the problem and asking again."""
        text = strip_code_fence(completion.text)
        try:
            return self.output_type.model_validate_json(text)
        except ValidationError as error:
            problem = describe_validation_error(error)
        if completion.finish_reason == "length":
            problem = f"the answer was cut off at max_tokens={max_tokens} ({problem})"
        self._last_output = completion.text
        self._last_problem = problem
        # Show the model its answer and the problem, as pydantic-ai's retry prompt does.
        self.messages = [
            *self.messages,
            Message.assistant(completion.text),
            Message.user(
                f"That answer is not valid: {problem}. Reply again with only a JSON object "
                "that conforms to the schema."
            ),
        ]
        return None

    def failure(self) -> LLMOutputError:
        """The error to raise once every attempt has failed validation."""
        shown = self._last_output[:_SHOWN_CHARS]
        return LLMOutputError(
            f"Model {self.model_id!r} gave no valid {self.output_type.__name__} in "
            f"{self.max_attempts} attempt(s); last problem: {self._last_problem}. "
            f"Last answer: {shown!r}. Use a stronger model, raise llm.output_retries, or "
            "raise max_tokens if answers are cut off.",
            attempts=self.max_attempts,
            output=self._last_output,
            problem=self._last_problem,
        )
