"""Asking the LLM: one question (:class:`Asker`) and a whole chain (:class:`ChainRunner`).

The runner starts every stage at once; a stage waits only for the stages its
question names, and a ``for_each`` stage asks its questions concurrently. The
first failure cancels the rest: a stage without a valid answer fails the chain
(:class:`~imajin.assistant.errors.StageFailed`), it is never given a default.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from imajin.assistant.cache import AnswerCache, cache_key
from imajin.assistant.chain import FIXED_ANSWERS, ChainSpec, StageSpec, render
from imajin.assistant.errors import StageFailed, StageUnavailable
from imajin.assistant.goals import GoalGroup, extraction_answer_type
from imajin.assistant.rule_one import quote
from imajin.errors import ServiceUnavailable
from imajin.llm.client import LLMClient
from imajin.llm.errors import InvalidSchema, LLMRequestRejected, LLMUpstreamError
from imajin.llm.messages import Message

__all__ = ["Answered", "Asker", "ChainResult", "ChainRunner", "Question", "gather_all"]

T = TypeVar("T")
ModelFor = Callable[[str, str], str | None]
"""(stage as shown, stage family) to the LLM model id that answers it (None: default)."""


async def gather_all(awaitables: Iterable[Awaitable[T]]) -> list[T]:
    """Await all concurrently, in order; on the first failure cancel the rest and re-raise."""
    tasks = [asyncio.ensure_future(awaitable) for awaitable in awaitables]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


@dataclass(frozen=True)
class Question:
    """One question to one model, with the type its answer must validate into.

    ``stage`` is the name shown in the chain (``extraction.essential``), ``family`` the
    chain file's stage name (``extraction``), ``about`` the term or group it asks about.
    """

    stage: str
    family: str
    system: str
    text: str
    answer_type: type[BaseModel]
    model_id: str | None
    about: str = ""

    def messages(self, note: str | None = None) -> list[Message]:
        """The messages sent; ``note`` is appended to the question (a redo's reason)."""
        text = self.text if note is None else f"{self.text}\n\n{note}"
        return [Message.system(self.system), Message.user(text)]


@dataclass(frozen=True)
class Answered:
    """A validated answer and how it was obtained."""

    question: Question
    answer: BaseModel
    model_id: str
    cached: bool
    duration_ms: float
    key: str = field(repr=False)


class Asker:
    """Asks questions through the LLM client, reading and filling the answer cache.

    Args:
        llm: The client (its prompt guard checks every prompt).
        cache: The answer cache; None disables caching.
    """

    def __init__(self, *, llm: LLMClient, cache: AnswerCache | None) -> None:
        self.llm = llm
        self.cache = cache

    async def ask(
        self,
        question: Question,
        *,
        read_cache: bool = True,
        write_cache: bool = True,
        note: str | None = None,
    ) -> Answered:
        """The answer to ``question``, from the cache when allowed, else from the LLM.

        Raises:
            StageFailed: The LLM gave no valid answer (after its retries), failed, or
                refused the request or its schema.
            StageUnavailable: The LLM could not be reached.
            UnknownModel: The question's model is not configured.
        """
        started = time.perf_counter()
        model_id = self.llm.resolve(question.model_id).model_id
        key = cache_key(
            stage=question.stage,
            messages=question.messages(),
            schema=question.answer_type.model_json_schema(),
            model_id=model_id,
        )
        if read_cache and self.cache is not None:
            stored = await asyncio.to_thread(self.cache.get, key)
            if stored is not None:
                try:
                    answer = question.answer_type.model_validate(stored)
                    return Answered(question, answer, model_id, True, _since(started), key)
                except ValidationError:
                    pass  # stored under an older answer type: ask again
        try:
            answer = await self.llm.acomplete_structured(
                question.messages(note), question.answer_type, model=model_id
            )
        except (LLMUpstreamError, LLMRequestRejected, InvalidSchema) as error:
            # A refused request or schema is the deployment's problem, not the caller's.
            failure = StageUnavailable if isinstance(error, ServiceUnavailable) else StageFailed
            raise failure(
                f"Reasoning stage {question.stage!r} got no valid answer from LLM model "
                f"{model_id!r}: {error.message}",
                stage=question.stage,
                cause_code=error.code,
            ) from error
        answered = Answered(question, answer, model_id, False, _since(started), key)
        if write_cache:
            await self.remember(answered)
        return answered

    async def remember(self, answered: Answered) -> None:
        """Store an LLM answer in the cache (a no-op without one or for a cached answer)."""
        if self.cache is None or answered.cached:
            return
        await asyncio.to_thread(
            self.cache.put,
            key=answered.key,
            stage=answered.question.stage,
            model_id=answered.model_id,
            question=answered.question.text,
            answer=answered.answer.model_dump(mode="json"),
        )


def _since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)


def conclusions(answer: BaseModel) -> dict[str, Any]:
    """An answer as later questions see it: its conclusions, without the reasoning text."""
    return answer.model_dump(mode="json", exclude={"reasoning"})


@dataclass(frozen=True)
class ChainResult:
    """Every stage's answers, in chain order (items in request order)."""

    answers: Mapping[str, list[Answered]]
    rendered: Mapping[str, str]

    def steps(self) -> list[Answered]:
        """All answers, flattened in chain order."""
        return [answered for stage in self.answers.values() for answered in stage]

    def single(self, stage: str) -> BaseModel:
        """The one answer of a stage that asks one question."""
        return self.answers[stage][0].answer


@dataclass(frozen=True)
class _Item:
    label: str | None  # appended to the stage name in the chain: the goal group
    about: str  # what the answer is keyed by when later questions see it
    values: Mapping[str, str]
    answer_type: type[BaseModel]


class ChainRunner:
    """Runs a :class:`ChainSpec` for one request.

    Args:
        spec: The chain.
        asker: Asks each question.
    """

    def __init__(self, spec: ChainSpec, asker: Asker) -> None:
        self.spec = spec
        self.asker = asker

    async def run(
        self,
        *,
        context: Mapping[str, str],
        filters: list[str],
        groups: list[GoalGroup],
        model_for: ModelFor,
        use_cache: bool,
        answer_types: Mapping[str, type[BaseModel]] | None = None,
    ) -> ChainResult:
        """Ask every stage's questions, each as soon as the stages it names have answered.

        Args:
            context: The request and instance placeholders, rendered as JSON.
            filters: The filter terms (one question each in ``filter`` stages).
            groups: The requested goal groups (one question each in ``goal_group`` stages).
            model_for: Picks the model of each question.
            use_cache: Read cached answers (fresh answers are stored either way).
            answer_types: Answer types made for this request, by name, in place of the
                shipped ones (a ranking narrowed to the instance's factors).

        Raises:
            StageFailed: A question got no valid answer; the others are cancelled.
        """
        names = {stage.name for stage in self.spec.stages}
        tasks: dict[str, asyncio.Task[list[Answered]]] = {}

        async def run_stage(stage: StageSpec) -> list[Answered]:
            values = dict(context)
            for needed in stage.needs(names):
                values[needed] = _render_stage(self.spec, needed, await tasks[needed])
            fixed = {**FIXED_ANSWERS, **(answer_types or {})}
            items = _items(stage, filters, groups, fixed)
            questions = [self._question(stage, item, values, model_for) for item in items]
            return await gather_all(self.asker.ask(q, read_cache=use_cache) for q in questions)

        for stage in self.spec.stages:
            tasks[stage.name] = asyncio.ensure_future(run_stage(stage))
        results = await gather_all(tasks.values())
        answers = {stage.name: got for stage, got in zip(self.spec.stages, results, strict=True)}
        rendered = {name: _render_stage(self.spec, name, got) for name, got in answers.items()}
        return ChainResult(answers=answers, rendered=rendered)

    def question(
        self, stage: StageSpec, values: Mapping[str, str], model_for: ModelFor
    ) -> Question:
        """The one question of a stage without ``for_each``, with ``values`` filled in."""
        return self._question(
            stage, _Item(None, "", {}, FIXED_ANSWERS[stage.answer]), values, model_for
        )

    def _question(
        self, stage: StageSpec, item: _Item, values: Mapping[str, str], model_for: ModelFor
    ) -> Question:
        shown = stage.name if item.label is None else f"{stage.name}.{item.label}"
        return Question(
            stage=shown,
            family=stage.name,
            system=self.spec.system,
            text=render(stage.question, {**values, **item.values}),
            answer_type=item.answer_type,
            model_id=model_for(shown, stage.name),
            about=item.about,
        )


def _items(
    stage: StageSpec,
    filters: list[str],
    groups: list[GoalGroup],
    answer_types: Mapping[str, type[BaseModel]],
) -> list[_Item]:
    if stage.for_each == "filter":
        answer_type = answer_types[stage.answer]
        return [_Item(None, term, {"term": quote(term)}, answer_type) for term in filters]
    if stage.for_each == "goal_group":
        return [
            _Item(
                group.name,
                group.name,
                {"group": quote(group.name), "group_goals": quote(group.describe())},
                extraction_answer_type(group),
            )
            for group in groups
        ]
    return [_Item(None, "", {}, answer_types[stage.answer])]


def _render_stage(spec: ChainSpec, name: str, answered: list[Answered]) -> str:
    stage = next(stage for stage in spec.stages if stage.name == name)
    if stage.for_each is None:
        return quote(conclusions(answered[0].answer))
    return quote({a.question.about: conclusions(a.answer) for a in answered})
