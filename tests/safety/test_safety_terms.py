"""The term data file and the package's boundaries."""

from __future__ import annotations

import ast
from importlib.resources import files
from pathlib import Path

import pytest

import imajin.safety
from imajin.safety import (
    LEGACY_LEVELS,
    LEGAL_SAFETY_TERMS,
    MaturityLevel,
    build_negative_prompt,
    load_terms,
    split_terms,
)
from imajin.safety.terms import SafetyTerms

PACKAGE_DIR = Path(imajin.safety.__file__).parent
MODULES = sorted(PACKAGE_DIR.glob("*.py"))

# The SPEC §1.1 list, which the data file must cover.
SPEC_LEGAL_TERMS = [
    "child",
    "children",
    "minor",
    "underage",
    "young",
    "kid",
    "kids",
    "infant",
    "baby",
    "toddler",
    "preteen",
    "teenager",
    "teen",
    "loli",
    "lolita",
    "shota",
    "shotacon",
    "non-consensual",
    "forced",
    "rape",
    "assault",
    "gore",
    "guro",
    "blood",
    "bloody",
    "bleeding",
    "wound",
    "injury",
    "dismemberment",
    "mutilation",
    "decapitation",
    "corpse",
    "excrement",
    "feces",
    "scat",
    "urine",
    "vomit",
    "dead body",
]

SPEC_JUVENILE_TRAITS = [
    "petite",
    "flat chest",
    "child proportions",
    "underdeveloped",
    "young child",
    "teenager body",
    "juvenile proportions",
    "child-like body",
    "immature proportions",
    "underage appearance",
    "baby face",
    "youthful appearance",
    "small body",
]


def test_the_data_file_ships_as_package_data() -> None:
    assert files("imajin.safety").joinpath("terms.yaml").is_file()


def test_the_data_file_covers_the_spec_lists() -> None:
    terms = load_terms()
    assert set(SPEC_LEGAL_TERMS) <= set(LEGAL_SAFETY_TERMS)
    assert set(SPEC_JUVENILE_TRAITS) <= set(terms.character.juvenile_trait_negatives)
    # Slang the source system lists among its legal terms blocks on its own (issue 11 (d)).
    assert {"loli", "lolita", "lolicon", "shota", "shotacon"} <= set(terms.policy.prohibited)


@pytest.mark.parametrize("style", ["photorealistic", "anime"])
def test_every_spec_legal_term_reaches_every_negative_prompt(style: str) -> None:
    # Word for word: each SPEC §1.1 term is its own entry, even with an empty override.
    for override in (None, ""):
        entries = split_terms(build_negative_prompt(style, override=override))
        missing = [term for term in SPEC_LEGAL_TERMS if term not in entries]
        assert not missing, (style, override, missing)


def test_the_data_file_is_validated() -> None:
    data = load_terms().model_dump()
    data["policy"]["minor"] = ["Child!"]  # not a matchable term
    with pytest.raises(ValueError, match="minor"):
        SafetyTerms.model_validate(data)
    data = load_terms().model_dump()
    data["character"]["age_range"] = {"minimum": 16, "maximum": 35}
    with pytest.raises(ValueError, match="age_of_majority"):
        SafetyTerms.model_validate(data)


def _all_terms() -> set[str]:
    terms = load_terms()
    groups = [
        *terms.negative_prompt.model_dump().values(),
        *(value for key, value in terms.policy.model_dump().items()),
        terms.character.juvenile_trait_negatives,
    ]
    # Maturity level names ("suggestive", "explicit") are the scale, not term data.
    scale = {level.value for level in MaturityLevel} | set(LEGACY_LEVELS)
    return {term for group in groups for term in group if len(term) > 2} - scale


def _string_literals(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
    }
    return {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
    }


@pytest.mark.parametrize("module", MODULES, ids=lambda path: path.name)
def test_no_term_is_written_in_code(module: Path) -> None:
    # SPEC §1.4: the term data lives in one data file, not scattered through code.
    assert not _string_literals(module) & _all_terms()


@pytest.mark.parametrize("module", MODULES, ids=lambda path: path.name)
def test_safety_never_imports_the_layers_above_it(module: Path) -> None:
    tree = ast.parse(module.read_text(encoding="utf-8"))
    imported = [
        name
        for node in ast.walk(tree)
        for name in (
            [alias.name for alias in node.names]
            if isinstance(node, ast.Import)
            else [node.module or ""]
            if isinstance(node, ast.ImportFrom)
            else []
        )
    ]
    assert not [name for name in imported if name.startswith(("imajin.api", "imajin.engine"))]


@pytest.mark.parametrize("module", MODULES, ids=lambda path: path.name)
def test_modules_stay_small(module: Path) -> None:
    assert len(module.read_text(encoding="utf-8").splitlines()) < 400
