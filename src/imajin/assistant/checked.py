"""LLM-written prompts through the content policy: checked, redone once, then reported.

SPEC §1.1: an LLM-expanded prompt is checked again after expansion. A blocked
answer is asked for once more, with the policy's reason; a second block fails
the request (:class:`~imajin.assistant.errors.ExpansionBlocked`). An answer enters
the cache only once it has passed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from pydantic import BaseModel

from imajin.assistant.errors import ExpansionBlocked
from imajin.assistant.reasoning import Answered, Asker, Question
from imajin.assistant.rule_one import quote
from imajin.errors import InvalidInput, PolicyViolation

__all__ = ["Checked", "ask_checked"]

logger = logging.getLogger(__name__)

R = TypeVar("R")


@dataclass(frozen=True)
class Checked(Generic[R]):
    """An answer that passed the policy, what the check made of it, and whether it was redone."""

    answered: Answered
    result: R
    regenerated: bool


def _reason(error: PolicyViolation | InvalidInput) -> str:
    return error.reason if isinstance(error, PolicyViolation) else error.code


async def ask_checked(
    asker: Asker,
    question: Question,
    check: Callable[[BaseModel], R],
    *,
    use_cache: bool,
) -> Checked[R]:
    """Ask ``question`` and pass the answer through ``check``; redo once if it is refused.

    Args:
        asker: Asks the LLM.
        question: The question whose answer holds a prompt.
        check: Returns the usable result, or raises :class:`PolicyViolation` (or
            :class:`InvalidInput` for an unusable prompt).
        use_cache: Whether the first attempt may come from the cache.

    Raises:
        ExpansionBlocked: Both answers were refused.
        StageFailed: The LLM gave no valid answer.
    """
    answered = await asker.ask(question, read_cache=use_cache, write_cache=False)
    try:
        result = check(answered.answer)
    except (PolicyViolation, InvalidInput) as error:
        reason = _reason(error)
        logger.warning("Stage %r wrote a refused prompt (%s); asking again", question.stage, reason)
        note = (
            f"An earlier answer to this question was refused by the content policy, reason "
            f"{quote(reason)}. Write a different answer that keeps to the policy."
        )
        answered = await asker.ask(question, read_cache=False, write_cache=False, note=note)
        try:
            result = check(answered.answer)
        except (PolicyViolation, InvalidInput) as again:
            raise ExpansionBlocked(
                f"Stage {question.stage!r}: the prompt written by LLM model "
                f"{answered.model_id!r} was refused by the content policy twice "
                f"({reason}, then {_reason(again)}): {again.message}",
                stage=question.stage,
                reason=_reason(again),
            ) from again
        await asker.remember(answered)
        return Checked(answered, result, regenerated=True)
    await asker.remember(answered)
    return Checked(answered, result, regenerated=False)
