"""The normaliser: folding look-alikes and building the search text."""

from __future__ import annotations

import re

import pytest

from imajin.safety.normalize import (
    GLUE,
    compile_terms,
    compile_vocabulary,
    find_terms,
    fold,
    normalize,
    split_compounds,
    term_pattern,
)


@pytest.mark.parametrize(
    ("raw", "folded"),
    [
        ("CITY Street", "city street"),
        ("ｃｉｔｙ", "city"),  # fullwidth
        ("𝐜𝐢𝐭𝐲", "city"),  # mathematical bold
        ("сіty", "city"),  # Cyrillic es and i
        ("ΤΑΡΟΤ", "tapot"),  # Greek capitals read as Latin shapes
        ("ᴛᴀʀᴏᴛ", "tarot"),  # small capitals
        ("café crème", "cafe creme"),
        ("ta\u200brot", "tarot"),  # zero-width space
        ("ta\u00adrot", "tarot"),  # soft hyphen
        ("tarot’s", "tarots"),  # apostrophes join
        ("İstanbul", "istanbul"),
        ("東京 tower", "東京 tower"),  # no look-alike: kept
    ],
)
def test_fold(raw: str, folded: str) -> None:
    assert fold(raw) == folded


@pytest.mark.parametrize(
    ("raw", "search"),
    [
        ("the  moon,\tthe sun", "the moon the sun"),
        ("t.a.r.o.t card", f"t{GLUE}a{GLUE}r{GLUE}o{GLUE}t card"),
        ("t a r o t card", f"t{GLUE}a{GLUE}r{GLUE}o{GLUE}t card"),
        ("t@rot", f"t{GLUE}@{GLUE}rot"),
        ("moooooon", "mooon"),  # long letter runs cut to three
        ("5 ex soldiers", "5 ex soldiers"),  # numbers are not glued to short words
        ("--moon--", "moon"),
    ],
)
def test_search_text(raw: str, search: str) -> None:
    assert normalize(raw).search == search


def test_words_drop_the_glue() -> None:
    assert normalize("t-a-r-o-t of the moon").words == ("tarot", "of", "the", "moon")


def test_ignore_blanks_phrases_from_the_search_text_only() -> None:
    text = normalize("baby blue moon", ignore=re.compile(r"baby blue"))
    assert text.search == "moon"
    assert text.folded == "baby blue moon"


@pytest.mark.parametrize(
    ("text", "matches"),
    [
        ("a moon card", True),
        ("a m00n card", True),
        ("a m.o.o.n card", True),
        ("a moooon card", True),
        ("moons", True),
        ("moon's glow", True),
        ("a mon card", False),  # a doubled letter must stay at least doubled
        ("honeymoon", False),
        ("moonlight", False),
        ("m00n 1011", True),
    ],
)
def test_compiled_terms_match_whole_words_with_spellings(text: str, matches: bool) -> None:
    pattern = compile_terms(["moon"])
    assert bool(find_terms(pattern, normalize(text))) is matches


def test_multi_word_terms_accept_space_hyphen_or_nothing() -> None:
    pattern = compile_terms(["full moon"])
    for text in ("full moon", "full-moon", "fullmoon", "f u l l m o o n", "full moons"):
        assert find_terms(pattern, normalize(text)), text
    assert not find_terms(pattern, normalize("full of moon"))


def test_terms_ending_in_y_match_their_ies_plural() -> None:
    pattern = compile_terms(["city"])
    assert find_terms(pattern, normalize("two cities")) == ("cities",)


def test_matches_need_a_letter() -> None:
    # "1011" fits the leet classes of "loli"-like terms but is a number.
    pattern = compile_terms(["lili"])
    assert find_terms(pattern, normalize("room 1111")) == ()
    assert find_terms(pattern, normalize("l1l1")) == ("l1l1",)


def test_term_pattern_is_plain_regex_source() -> None:
    assert re.fullmatch(term_pattern("sun"), "sun")
    assert re.fullmatch(term_pattern("sun"), "5un")
    assert not re.fullmatch(term_pattern("sun"), "son")


def test_compile_terms_needs_terms() -> None:
    with pytest.raises(ValueError, match="at least one term"):
        compile_terms([])


@pytest.mark.parametrize(
    ("text", "extra"),
    [
        ("a moonsun card", ["moon", "sun"]),
        ("a m00n5un card", ["m00n", "5un"]),
        ("a sunsmoon card", ["suns", "moon"]),
        ("moonlight", []),  # "light" is not a term
        ("moon sun", []),  # already separate words
        ("honeymoon", []),
    ],
)
def test_split_compounds_adds_the_halves_of_glued_terms(text: str, extra: list[str]) -> None:
    vocabulary = compile_vocabulary(["moon", "sun"])
    plain = normalize(text)
    split = split_compounds(plain, vocabulary)
    assert split.search.split(" ")[len(plain.search.split(" ")) :] == extra
