"""Text normalisation that lets the content policy see through evasions.

The policy must match "child" in ``CHILD``, ``c.h.i.l.d``, ``c h i l d``,
``ch1ld``, ``сhild`` (Cyrillic с), ``ｃｈｉｌｄ``, ``chíld``, ``ch<zero-width space>ild``,
``chiiild`` and ``children``, yet not in "kidney", "skid row" or "canteens".
It works in two steps:

1. :func:`fold` maps look-alike characters onto plain lowercase ASCII:
   compatibility forms (fullwidth, mathematical letters, ligatures), accents,
   Cyrillic/Greek/small-capital look-alikes; zero-width and other format
   characters and apostrophes disappear, so they join what they split.
2. :func:`normalize` builds the *search text*: words separated by single
   spaces, and ``GLUE`` wherever punctuation sat inside a word (``c.h.i.l.d``
   becomes ``c␟h␟i␟l␟d``). Leetspeak symbols (``@$!|+``) are kept, set apart
   by ``GLUE``. A letter repeated more than three times is cut to three.
   Runs of words of at most two characters (numbers excepted)
   are glued into one word, which catches letters spaced apart (``c h i l d``).

:func:`compile_terms` turns a term list into one regex over the search text.
A term may span ``GLUE`` anywhere but must start and end on a word or ``GLUE``
boundary: "kid" matches ``kid``, ``kid-friendly`` and ``kid's``, never
``kidney`` or ``skid``. Each letter also accepts its leetspeak digits and
repeats (``t33n``, ``teeeen``; never ``ten``), and the last word its plurals.

Judgement calls, kept on purpose:

- Whole words are glued across a space only by :func:`join_splits`, and the
  policy passes it the minor terms alone (``shot a`` must not read as the
  prohibited ``shota``; ``tod dler`` reads as ``toddler``).
- ``i`` and ``l`` stand for each other (a capital I looks like a lowercase l),
  so "chiId" and "chlld" read as "child"; a word that differs from a term
  only by i and l ("kiddle") reads as the term too.
- Words glued together (``nudechild``) are split by :func:`split_compounds`
  only when both halves are terms, so "kidney" stays one word.
- Word-internal punctuation is glue, so a hyphenated compound matches its
  parts: ``kid-friendly`` contains "kid" (harmless unless the prompt is also
  sexual, which the policy wants to block anyway).
- Leetspeak maps one way (``0`` may stand for o; o never for 0), and a match
  must contain at least one letter, so numbers ("room 1011") never read as
  words ("loli").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import groupby, pairwise

__all__ = [
    "GLUE",
    "NormalizedText",
    "compile_terms",
    "compile_vocabulary",
    "find_terms",
    "fold",
    "join_splits",
    "normalize",
    "split_compounds",
    "term_pattern",
]

GLUE = "\u241f"
"""Marks where punctuation or a symbol split a word; terms may span it.

It is "␟" (U+241F), neither a word character nor whitespace; the control
character U+001F would not do, as ``str.split`` treats it as a space.
"""

# Look-alikes that NFKD does not fold. Upper and lower case are listed apart
# because their shapes differ (Greek capital Eta "Η" looks like H, small "η" like n).
_CONFUSABLES: dict[str, str] = {
    # Cyrillic capitals and smalls.
    "А": "a", "В": "b", "Е": "e", "К": "k", "М": "m", "Н": "h", "О": "o", "Р": "p",
    "С": "c", "Т": "t", "У": "y", "Х": "x", "І": "i", "Ј": "j", "Ѕ": "s", "Ԁ": "d",
    "Ӏ": "l", "Һ": "h", "Ԛ": "q", "Ԝ": "w",
    "а": "a", "в": "b", "г": "r", "е": "e", "к": "k", "м": "m", "н": "h", "о": "o",
    "п": "n", "р": "p", "с": "c", "т": "t", "у": "y", "х": "x", "ь": "b", "і": "i",
    "ј": "j", "ѕ": "s", "ԁ": "d", "ӏ": "l", "һ": "h", "ԛ": "q", "ԝ": "w",
    # Greek capitals and smalls.
    "Α": "a", "Β": "b", "Ε": "e", "Ζ": "z", "Η": "h", "Ι": "i", "Κ": "k", "Μ": "m",
    "Ν": "n", "Ο": "o", "Ρ": "p", "Τ": "t", "Υ": "y", "Χ": "x",
    "α": "a", "β": "b", "γ": "y", "ε": "e", "η": "n", "ι": "i", "κ": "k", "μ": "u",
    "ν": "v", "ο": "o", "ρ": "p", "ς": "s", "τ": "t", "υ": "u", "χ": "x", "ω": "w",
    # Small capitals and IPA letters.
    "ᴀ": "a", "ʙ": "b", "ᴄ": "c", "ᴅ": "d", "ᴇ": "e", "ꜰ": "f", "ɢ": "g", "ʜ": "h",
    "ɪ": "i", "ᴊ": "j", "ᴋ": "k", "ʟ": "l", "ᴍ": "m", "ɴ": "n", "ᴏ": "o", "ᴘ": "p",
    "ʀ": "r", "ꜱ": "s", "ᴛ": "t", "ᴜ": "u", "ᴠ": "v", "ᴡ": "w", "ʏ": "y", "ᴢ": "z",
    "ɑ": "a", "ɡ": "g", "ı": "i", "ȷ": "j", "ɩ": "i",
    # Apostrophes join what they split ("kid's" reads as "kids").
    "'": "", "’": "", "‘": "", "ʼ": "", "`": "", "´": "",
}  # fmt: skip
_CONFUSABLE_TABLE = str.maketrans(_CONFUSABLES)

# Symbols and digits that stand for letters in leetspeak, by the letter they replace.
# "i" and "l" also stand for each other: fold lowercases first, so a capital I
# written for l ("chiId") arrives as "i", and a lowercase l can pose as a capital I.
_LEET: dict[str, str] = {
    "a": "4@", "b": "8", "e": "3", "g": "9", "i": "1!|l", "l": "1|i", "o": "0", "s": "5$",
    "t": "7+",
}  # fmt: skip
_LEET_SYMBOLS = "@$!|+"
# Unicode categories dropped by fold: combining marks (accents) and format
# characters (zero-width space/joiners, soft hyphen, bidi controls).
_DROPPED_CATEGORIES = frozenset({"Mn", "Me", "Cf"})
# Words this short, side by side, are glued: that is how "c h i l d" is caught.
_SHORT_WORD = 2

# Longer runs of one letter are cut to this length ("chiiiiild" → "chiiild").
_MAX_REPEAT = 3

_NON_WORD = re.compile(r"[^\w\s@$!|+]|_")
_LEET_SYMBOL = re.compile(r"([@$!|+])")
_GLUE_RUN = re.compile(f"{GLUE}+")
_LETTER_RUN = re.compile(f"([^\\W\\d_])(?:{GLUE}?\\1){{{_MAX_REPEAT},}}")


def fold(text: str) -> str:
    """Fold *text* to lowercase ASCII where a character looks like an ASCII letter.

    Compatibility forms and accents go through NFKD, look-alikes through a
    fixed table; format characters, combining marks and apostrophes are
    dropped. Characters with no ASCII look-alike are kept as they are.
    """
    text = unicodedata.normalize("NFKD", text).translate(_CONFUSABLE_TABLE)
    # casefold can emit combining marks ("İ" → "i̇"), so decompose once more after it.
    text = unicodedata.normalize("NFKD", text.casefold())
    kept = "".join(ch for ch in text if unicodedata.category(ch) not in _DROPPED_CATEGORIES)
    return kept.translate(_CONFUSABLE_TABLE)


@dataclass(frozen=True, slots=True)
class NormalizedText:
    """A text prepared for matching.

    Attributes:
        folded: The whole text after :func:`fold` (positions of words kept).
        search: The search text: words split by single spaces, ``GLUE`` where
            punctuation split a word, runs of short words glued into one.
    """

    folded: str
    search: str

    @property
    def words(self) -> tuple[str, ...]:
        """The words of the search text with ``GLUE`` removed."""
        return tuple(word.replace(GLUE, "") for word in self.search.split(" ") if word)


def normalize(text: str, *, ignore: re.Pattern[str] | None = None) -> NormalizedText:
    """Fold *text* and build its search text.

    Args:
        text: Any user-supplied text.
        ignore: Matches of this pattern in the folded text are blanked out of
            the search text (the policy's benign phrases, such as "baby blue").
    """
    folded = fold(text)
    searchable = ignore.sub(" ", folded) if ignore is not None else folded
    return NormalizedText(folded=folded, search=_search_text(searchable))


def _search_text(folded: str) -> str:
    marked = _LEET_SYMBOL.sub(f"{GLUE}\\1{GLUE}", _NON_WORD.sub(GLUE, folded))
    marked = _LETTER_RUN.sub(lambda run: run.group(1) * _MAX_REPEAT, marked)
    words = [_GLUE_RUN.sub(GLUE, word).strip(GLUE) for word in marked.split()]
    merged: list[str] = []
    short_run: list[str] = []
    for word in filter(None, words):
        letters = word.replace(GLUE, "")
        # Numbers stay apart: "5 ex soldiers" must not read as "5ex" (leet "sex").
        if len(letters) <= _SHORT_WORD and not letters.isdigit():
            short_run.append(word)
            continue
        if short_run:
            merged.append(GLUE.join(short_run))
            short_run = []
        merged.append(word)
    if short_run:
        merged.append(GLUE.join(short_run))
    return " ".join(merged)


def _char_class(char: str) -> str:
    return "[" + re.escape(char + _LEET.get(char, "")) + "]"


def _run_pattern(char: str, count: int) -> str:
    # A letter written k times in the term must appear at least k times, so
    # "teen" accepts "teeeen" but never "ten". The upper bound matches the
    # squeeze in _search_text and keeps matching linear on hostile input.
    cls = _char_class(char)
    return f"{cls}(?:{GLUE}?{cls}){{{count - 1},{max(count, _MAX_REPEAT) - 1}}}"


def _word_pattern(word: str, *, last: bool) -> str:
    runs = [(char, len(list(group))) for char, group in groupby(word)]
    body = f"{GLUE}?".join(_run_pattern(char, count) for char, count in runs)
    if not last:
        return body
    # Plurals and possessives: "kids", "kidz", "kid's" (the apostrophe is gone by now).
    plural = f"(?:{GLUE}?(?:{_char_class('e')}{GLUE}?)?[s5$z])?"
    if word.endswith("y") and len(runs) > 1:
        # "baby" also matches "babies": swap the final y for "ies".
        stem = f"{GLUE}?".join(_run_pattern(char, count) for char, count in runs[:-1])
        ies = f"{_char_class('i')}{GLUE}?{_char_class('e')}{GLUE}?[s5$z]"
        return f"{stem}{GLUE}?(?:{_run_pattern('y', runs[-1][1])}{plural}|{ies})"
    return body + plural


def term_pattern(term: str) -> str:
    """The regex source that matches *term* in a search text (no boundaries).

    *term* is lowercase ASCII words split by spaces or hyphens; each split
    accepts a space, ``GLUE`` or nothing in the text.
    """
    words = re.split(r"[ -]", term)
    return f"[ {GLUE}]?".join(
        _word_pattern(word, last=index == len(words) - 1) for index, word in enumerate(words)
    )


def _alternation(terms: Iterable[str]) -> str:
    # Longest first, so a match reports "child porn" rather than its prefix.
    alternatives = sorted(set(terms), key=len, reverse=True)
    if not alternatives:
        raise ValueError("compile_terms needs at least one term")
    return "|".join(term_pattern(term) for term in alternatives)


def compile_terms(terms: Iterable[str]) -> re.Pattern[str]:
    """One regex that finds any of *terms* as whole words of a search text."""
    return re.compile(f"(?<![^ {GLUE}])(?:{_alternation(terms)})(?![^ {GLUE}])")


def compile_vocabulary(terms: Iterable[str]) -> re.Pattern[str]:
    """One regex for any of *terms*, without word boundaries (for :func:`split_compounds`)."""
    return re.compile(f"(?:{_alternation(terms)})")


# Shorter words cannot hold two terms; longer ones are not two terms glued.
_MIN_COMPOUND = 5
_MAX_COMPOUND = 64


def _halves(word: str, vocabulary: re.Pattern[str]) -> tuple[str, str] | None:
    # Every split point is tried, as a plural can hide a boundary ("teensex").
    for cut in range(2, len(word) - 1):
        if vocabulary.fullmatch(word, 0, cut) and vocabulary.fullmatch(word, cut):
            return word[:cut].strip(GLUE), word[cut:].strip(GLUE)
    return None


def split_compounds(text: NormalizedText, vocabulary: re.Pattern[str]) -> NormalizedText:
    """Add the halves of words glued together from two terms to the search text.

    "nudechild" is one word, so whole-word matching misses both terms; when a
    word is exactly two terms of *vocabulary* back to back (and not one term),
    its halves are appended as extra words. A word whose rest is not a term
    ("kidney", "skidrow") is left alone.
    """
    extra: list[str] = []
    for word in text.search.split(" "):
        if not _MIN_COMPOUND <= len(word) <= _MAX_COMPOUND or vocabulary.fullmatch(word):
            continue
        if halves := _halves(word, vocabulary):
            extra += halves
    if not extra:
        return text
    return NormalizedText(folded=text.folded, search=" ".join([text.search, *extra]))


def join_splits(text: NormalizedText, vocabulary: re.Pattern[str]) -> NormalizedText:
    """Add words split once by a space back together when they form a term.

    "tod dler" is two words, neither a term; when two neighbouring words
    glued together are exactly one term of *vocabulary*, the glued word is
    appended to the search text. Only the policy's minor terms are passed as
    *vocabulary*: they block only beside sexual context, so a chance join
    ("kid do") costs nothing on its own. The prohibited terms are not joined,
    which keeps "a shot a day" from reading as a prohibited term.
    """
    words = text.search.split(" ")
    extra = [
        first + second
        for first, second in pairwise(words)
        if vocabulary.fullmatch(first + second)
        and not (vocabulary.fullmatch(first) or vocabulary.fullmatch(second))
    ]
    if not extra:
        return text
    return NormalizedText(folded=text.folded, search=" ".join([text.search, *extra]))


def find_terms(pattern: re.Pattern[str], text: NormalizedText) -> tuple[str, ...]:
    """The matches of a :func:`compile_terms` pattern in *text*, ``GLUE`` removed.

    Matches made only of digits and symbols are dropped ("1011" is a number,
    not leetspeak for "loli").
    """
    found = (match.group().replace(GLUE, "") for match in pattern.finditer(text.search))
    return tuple(word for word in found if any(char.isalpha() for char in word))
