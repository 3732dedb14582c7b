"""SPEC §4.3 rule 1, checked at run time: no classification rules inside LLM prompts.

Rule 1 forbids telling the model how to classify terms: absolute rules in
capitals, rules that put one consideration above the others, example terms,
term-to-value mappings and conditions on term names. :class:`RuleOneGuard`
checks every prompt just before it is sent (plug it into
``LLMRegistry(prompt_guard=...)``); it logs an error, and raises
:class:`~imajin.assistant.errors.RuleOneViolation` in development mode.

Caller data is not instructions: code that builds prompts embeds it as JSON
(:func:`quote`), and the guard skips JSON strings and the model's own answers.
The static half of the guard, over source and data files, is
:mod:`imajin.assistant.rule_one_scan`.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from imajin.assistant.errors import RuleOneViolation
from imajin.llm.messages import Message

__all__ = ["TEXT_RULES", "Finding", "RuleOneGuard", "TextRule", "find_in_text", "quote"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TextRule:
    """One kind of rule-1 violation that shows in instruction text."""

    code: str
    description: str
    pattern: re.Pattern[str]


@dataclass(frozen=True)
class Finding:
    """A rule-1 violation: which rule, where, and the text that matched."""

    code: str
    where: str
    excerpt: str

    def __str__(self) -> str:
        return f"{self.where}: {self.code}: {self.excerpt!r}"


# The capitalised rule words are spelt with a one-letter class ([A]...) so that this
# module, which the static scan also reads, does not contain the words it forbids.
TEXT_RULES: tuple[TextRule, ...] = (
    TextRule(
        "absolute_rule",
        "an absolute rule word in capitals",
        re.compile(r"\b(?:[A]LWAYS|[N]EVER|[M]UST\s+[A]LWAYS|[M]UST\s+[N]EVER)\b"),
    ),
    TextRule(
        "classification_rule",
        "a standing order on how to classify",
        re.compile(
            r"(?i)\b(?:always|never)\s+(?:be\s+)?(?:classif|categori[sz]|treat|map|label|"
            r"interpret|assign|rate)\w*"
        ),
    ),
    TextRule(
        "priority_override",
        "a rule that overrides the weighing of priorities",
        re.compile(
            r"(?i)\b(?:takes?|has|have|given|gets?)\s+(?:top\s+|highest\s+|absolute\s+)?"
            r"(?:priority|precedence)\b|\boverrides?\s+(?:all|any|every|other)\b|"
            r"\bpriority\s+overrides?\b"
        ),
    ),
    TextRule(
        "example_terms",
        "example terms in instructions",
        re.compile(
            r"(?i)(?<![\w.])(?:e\.g\.|for\s+example|for\s+instance|such\s+as|examples?\s*:)"
        ),
    ),
    TextRule(
        "term_mapping",
        "a term-to-value mapping",
        re.compile(r"[\w'\"]\s*(?:-+>|=>|\u2192)\s*[\w'\"]"),
    ),
    TextRule(
        "term_condition",
        "a condition on a term's name",
        re.compile(
            r"(?i)\b(?:if|when|whenever|unless)\b[^.?!\n]{0,60}?\b(?:term|filter|category|"
            r"keyword|tag)s?\b[^.?!\n]{0,30}?\b(?:is|are|equals?|contains?|mentions?|includes?|"
            r"matches|says)\b"
        ),
    ),
)

# A JSON string literal: how caller data and earlier answers are embedded in prompts.
_JSON_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"')
_EXCERPT_CHARS = 80


def quote(value: Any) -> str:
    """``value`` as JSON, the form in which caller data goes into a prompt.

    The runtime guard ignores JSON strings, so a caller's filter that happens to
    read like an instruction is not mistaken for one.
    """
    return json.dumps(value, ensure_ascii=False, default=str)


def find_in_text(text: str, *, where: str) -> list[Finding]:
    """Every rule-1 violation in ``text`` (instruction text, data already removed)."""
    findings = []
    for rule in TEXT_RULES:
        for match in rule.pattern.finditer(text):
            start = max(0, match.start() - 20)
            excerpt = " ".join(text[start : match.end() + 20].split())[:_EXCERPT_CHARS]
            findings.append(Finding(rule.code, where, excerpt))
    return findings


def check_messages(messages: Sequence[Message]) -> list[Finding]:
    """Rule-1 violations in the instruction text of ``messages``.

    The model's own earlier answers (``assistant`` messages) and JSON strings in the
    others are data, not instructions, and are skipped.
    """
    findings: list[Finding] = []
    for index, message in enumerate(messages):
        if message.role == "assistant":
            continue
        instructions = _JSON_STRING.sub('""', message.content)
        findings += find_in_text(instructions, where=f"message {index} ({message.role})")
    return findings


class RuleOneGuard:
    """A prompt guard for :class:`~imajin.llm.LLMRegistry`: rule 1 on every prompt sent.

    Args:
        development_mode: Raise :class:`RuleOneViolation` on a finding; otherwise the
            finding is logged as an error and the prompt is sent anyway.
    """

    def __init__(self, *, development_mode: bool) -> None:
        self.development_mode = development_mode

    def __call__(self, messages: list[Message]) -> None:
        """Check ``messages``; log (and in development mode raise) on a violation.

        Raises:
            RuleOneViolation: A finding, in development mode.
        """
        findings = check_messages(messages)
        if not findings:
            return
        lines = _describe(findings)
        logger.error("A prompt breaks SPEC §4.3 rule 1:\n%s", lines)
        if self.development_mode:
            raise RuleOneViolation(
                "A prompt about to be sent to an LLM breaks SPEC §4.3 rule 1 (no term lists, "
                f"examples, absolute rules or overrides in instructions):\n{lines}",
                findings=[str(finding) for finding in findings],
            )


def _describe(findings: Iterable[Finding]) -> str:
    return "\n".join(f"- {finding}" for finding in findings)
