"""A deterministic backend for tests, shipped with the package (like pydantic-ai's TestModel).

``ScriptedBackend`` answers from a queue of scripted answers, or from a function of
the request, or, with neither, with the smallest answer that fits the requested
schema. It records every request, so tests can assert which prompts were sent.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any, ClassVar

from pydantic import Field

from imajin.llm.base import BackendOptions, LLMBackend
from imajin.llm.errors import ScriptExhausted
from imajin.llm.messages import Completion, CompletionRequest

Responder = Callable[[CompletionRequest], str | Completion]
ScriptedAnswer = str | Completion | BaseException | Responder
"""A text (sent verbatim, malformed or not), a full completion, an error to raise, or a function."""


class ScriptedOptions(BackendOptions):
    """Options of the scripted backend when configured from settings (demos, smoke tests)."""

    answers: list[str] = Field(
        default_factory=list,
        description="Answers given in order; once used up, it raises. Empty: schema-shaped "
        "minimal answers (or 'ok' for text) forever.",
    )


class ScriptedBackend(LLMBackend):
    """Answers from a script and records every request it gets.

    Args:
        answers: Consumed in order, one per request. A ``BaseException`` is raised
            instead of answering (to test retries); a callable is called with the request.
        respond: Answers every request once ``answers`` is used up.
        options: Used when the backend is built from settings; ``answers`` wins over it.

    With neither ``answers`` nor ``respond`` the backend answers forever: with the
    minimal JSON that fits the request's schema, or ``"ok"`` for text.
    """

    options_type: ClassVar[type[BackendOptions]] = ScriptedOptions
    supports_json_schema: ClassVar[bool] = True

    def __init__(
        self,
        options: BackendOptions | None = None,
        *,
        answers: Iterable[ScriptedAnswer] | None = None,
        respond: Responder | None = None,
    ) -> None:
        scripted = options if isinstance(options, ScriptedOptions) else ScriptedOptions()
        super().__init__(scripted)
        queue = list(answers) if answers is not None else list(scripted.answers)
        self._scripted = bool(queue) or respond is not None
        self._answers: deque[ScriptedAnswer] = deque(queue)
        self._respond = respond
        self._lock = threading.Lock()
        self.requests: list[CompletionRequest] = []
        """Every request received, in order."""

    @property
    def last_request(self) -> CompletionRequest:
        """The most recent request; raises ``IndexError`` when there was none."""
        return self.requests[-1]

    @property
    def remaining(self) -> int:
        """How many queued answers are still unused."""
        return len(self._answers)

    def add_answers(self, *answers: ScriptedAnswer) -> None:
        """Queue more answers after those already queued."""
        with self._lock:
            self._answers.extend(answers)
            self._scripted = True

    def complete(self, request: CompletionRequest) -> Completion:
        """The next scripted answer to ``request``, recording the request first."""
        with self._lock:
            self.requests.append(request)
            answer: ScriptedAnswer | None = self._answers.popleft() if self._answers else None
        if answer is None:
            answer = self._fallback(request)
        if isinstance(answer, BaseException):
            raise answer
        if callable(answer):
            answer = answer(request)
        return answer if isinstance(answer, Completion) else Completion(text=answer)

    def describe(self) -> str:
        """``scripted``: nothing runs."""
        return "scripted"

    def _fallback(self, request: CompletionRequest) -> ScriptedAnswer:
        if self._respond is not None:
            return self._respond
        if self._scripted:
            raise ScriptExhausted(
                f"ScriptedBackend got request #{len(self.requests)} but its script is used up; "
                "queue more answers (answers=[...] or add_answers) or pass respond=."
            )
        if request.json_schema is None:
            return "ok"
        return json.dumps(minimal_instance(request.json_schema))


def minimal_instance(schema: dict[str, Any]) -> Any:
    """The smallest JSON value that validates against ``schema`` (the subset pydantic emits).

    Objects get every property, strings their first enum value or the shortest
    allowed filler, numbers their minimum or 0, arrays their minimum length.

    Raises:
        ValueError: The schema uses a construct this does not cover.
    """
    return _instance(schema, schema.get("$defs", {}))


def _instance(schema: dict[str, Any], defs: dict[str, Any]) -> Any:
    schema = _resolve(schema, defs)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type", "object")
    if isinstance(kind, list):
        kind = kind[0]
    if kind == "object":
        properties = schema.get("properties", {})
        return {name: _instance(sub, defs) for name, sub in properties.items()}
    if kind == "array":
        return [_instance(schema.get("items", {}), defs)] * int(schema.get("minItems", 0))
    if kind not in _SCALARS:
        raise ValueError(f"minimal_instance cannot build a value for schema type {kind!r}")
    return _SCALARS[kind](schema)


def _resolve(schema: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    """Follow references and take the first alternative of unions, down to a concrete schema."""
    while True:
        if "$ref" in schema:
            schema = defs[schema["$ref"].rsplit("/", 1)[-1]]
            continue
        union = next((key for key in ("anyOf", "oneOf", "allOf") if key in schema), None)
        if union is None:
            return schema
        schema = schema[union][0]


def _number(schema: dict[str, Any]) -> float:
    if "exclusiveMinimum" in schema:
        return float(schema["exclusiveMinimum"]) + 1
    return float(schema.get("minimum", 0))


_SCALARS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "string": lambda schema: "a" * int(schema.get("minLength", 0)),
    "number": _number,
    "integer": lambda schema: int(_number(schema)),
    "boolean": lambda _schema: False,
    "null": lambda _schema: None,
}
