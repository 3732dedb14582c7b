"""Finding ages written in a text ("15 year old", "15yo", "fifteen-year-old", "aged 15").

Shared by the content policy (an age below majority names a minor) and the
character guard (which rewrites ages outside its adult range). The words come
from the ``ages`` section of ``terms.yaml``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from imajin.safety.once import Once
from imajin.safety.terms import AgeTerms, load_terms

__all__ = ["AgeMention", "find_ages"]

# Anything that is not a letter or digit may sit between the parts of an age,
# a little of it: "15-year-old", "15 y/o", "15yo", "age: 15".
_SEP = r"[\W_]{0,3}"


@dataclass(frozen=True, slots=True)
class AgeMention:
    """One age in a text.

    Attributes:
        age: The age in years.
        start: Where the whole mention starts in the text.
        end: Where the whole mention ends.
        number_start: Where the number (digits or words) starts.
        number_end: Where the number ends.
    """

    age: int
    start: int
    end: int
    number_start: int
    number_end: int


@dataclass(frozen=True, slots=True)
class _AgeMatcher:
    pattern: re.Pattern[str]
    number_words: dict[str, int]


def _alternation(phrases: tuple[str, ...] | list[str]) -> str:
    ordered = sorted(phrases, key=len, reverse=True)
    return "|".join(_SEP.join(map(re.escape, re.split(r"[ -]", phrase))) for phrase in ordered)


@Once
def _matcher() -> _AgeMatcher:
    terms: AgeTerms = load_terms().ages
    units = [word for word, value in terms.number_words.items() if value < 10]
    tens = [word for word, value in terms.number_words.items() if value >= 20 and value % 10 == 0]
    words = _alternation(list(terms.number_words))
    number = rf"\d{{1,3}}|(?:{_alternation(tens)})(?:{_SEP}(?:{_alternation(units)}))?|(?:{words})"
    with_unit = rf"(?P<n1>{number}){_SEP}(?:{_alternation(terms.units)})"
    with_prefix = rf"(?:{_alternation(terms.prefixes)}){_SEP}(?P<n2>{number})"
    alternatives = [with_unit, with_prefix] if terms.prefixes else [with_unit]
    pattern = re.compile(rf"(?<![^\W_])(?:{'|'.join(alternatives)})(?![^\W_])", re.IGNORECASE)
    return _AgeMatcher(pattern=pattern, number_words=dict(terms.number_words))


def _value(number: str, words: dict[str, int]) -> int:
    if number.isdigit():
        return int(number)
    # "twenty-five" and "twentyfive" alike: add every number word found in it.
    found = re.findall("|".join(sorted(words, key=len, reverse=True)), number.lower())
    return sum(words[word] for word in found)


def find_ages(text: str) -> list[AgeMention]:
    """Every age written in *text*, in order of appearance (case-insensitive)."""
    matcher = _matcher()
    mentions: list[AgeMention] = []
    for match in matcher.pattern.finditer(text):
        group = "n1" if match.group("n1") is not None else "n2"
        mentions.append(
            AgeMention(
                age=_value(match.group(group), matcher.number_words),
                start=match.start(),
                end=match.end(),
                number_start=match.start(group),
                number_end=match.end(group),
            )
        )
    return mentions
