"""SPEC §4.3 rules 1 and 6: the package holds no classification rules, and prompts are checked.

The static scan is proven on a copy of the package with violations planted in it:
each planted violation must be found, at its file, and the real package must scan clean.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest

import imajin.assistant
from imajin.assistant import RuleOneGuard, RuleOneViolation, scan_tree
from imajin.assistant.rule_one import Finding, check_messages, quote
from imajin.llm import LLMRegistry, LLMSettings, Message, ModelDefinition

PACKAGE = Path(imajin.assistant.__file__).parent

# Each planted violation: (file relative to the package, text appended, expected finding code).
PLANTED = [
    (
        "planted_mapping.py",
        'STYLE_FOR = {"kawaii": "anime", "gothic": "dark fantasy", "boho": "soft film"}\n',
        "term_mapping_literal",
    ),
    (
        "planted_list.py",
        'CULTURAL_TERMS = ["kawaii", "harajuku", "ukiyo-e", "lolita fashion"]\n',
        "term_list_literal",
    ),
    (
        "planted_branch.py",
        "def style(term: str) -> str:\n"
        '    if term.lower() == "kawaii":\n'
        '        return "anime"\n'
        '    return "photo"\n',
        "term_condition_code",
    ),
    (
        "planted_lookup.py",
        'KNOWN = frozenset({"kawaii", "chibi", "moe", "harajuku"})\n'
        "def is_anime(filter_term: str) -> bool:\n"
        "    return filter_term in KNOWN\n",
        "term_condition_code",
    ),
    (
        "planted_match.py",
        "def style(category: str) -> str:\n"
        "    match category:\n"
        '        case "nightlife":\n'
        '            return "mature"\n'
        '    return "sfw"\n',
        "term_condition_code",
    ),
    (
        "planted_prompt.py",
        'SYSTEM = "You classify filters. ALWAYS treat anime-related terms as anime."\n',
        "absolute_rule",
    ),
    (
        "planted_override.py",
        'RULE = "The cultural factor takes priority over everything else."\n',
        "priority_override",
    ),
    (
        "planted_question.yaml",
        "question: >-\n  Analyse {term}, for example kawaii or gothic, and pick a style.\n",
        "example_terms",
    ),
    (
        "planted_arrow.yaml",
        "system: Map terms to styles, kawaii -> anime, noir => photographic.\n",
        "term_mapping",
    ),
    (
        "planted_condition.yaml",
        "system: If the filter term is kawaii then answer anime.\n",
        "term_condition",
    ),
    (
        "planted_terms.yaml",
        "known_terms:\n  - kawaii\n  - harajuku\n  - ukiyo-e\n  - chibi\n",
        "term_list_data",
    ),
    (
        "planted_styles.yaml",
        "styles:\n  kawaii: anime\n  noir: photographic\n  boho: soft film\n",
        "term_mapping_data",
    ),
    ("planted_notes.md", "Rule: NEVER call a filter term explicit.\n", "absolute_rule"),
]


def test_the_assistant_package_scans_clean() -> None:
    findings = scan_tree(PACKAGE)

    assert findings == [], "\n".join(str(finding) for finding in findings)


@pytest.fixture
def planted(tmp_path: Path) -> tuple[Path, list[Finding]]:
    copy = tmp_path / "assistant"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    for name, text, _code in PLANTED:
        (copy / name).write_text(text, encoding="utf-8")
    return copy, scan_tree(copy)


@pytest.mark.parametrize(("name", "code"), [(name, code) for name, _text, code in PLANTED])
def test_each_planted_violation_is_caught(
    planted: tuple[Path, list[Finding]], name: str, code: str
) -> None:
    _copy, findings = planted

    found = {finding.code for finding in findings if finding.where.startswith(f"{name}:")}

    assert code in found, f"{name}: expected {code}, found {sorted(found)}"


def test_only_planted_files_have_findings(planted: tuple[Path, list[Finding]]) -> None:
    _copy, findings = planted

    assert {finding.where.split(":")[0] for finding in findings} == {n for n, _, _ in PLANTED}


def test_a_violation_in_a_shipped_file_is_caught(tmp_path: Path) -> None:
    copy = tmp_path / "assistant"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    chain = copy / "chain.yaml"
    chain.write_text(
        chain.read_text().replace(
            "Answer\n  briefly and concretely.",
            "Answer\n  briefly. Kawaii filters ALWAYS mean the anime style.",
        )
    )

    findings = scan_tree(copy)

    assert [f.code for f in findings] == ["absolute_rule"]
    assert findings[0].where.startswith("chain.yaml:")


def test_the_runtime_guard_raises_in_development_mode_and_logs_otherwise(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bad = [Message.system("Classify terms. NEVER rate a cafe above sfw."), Message.user("Go.")]

    with pytest.raises(RuleOneViolation) as raised:
        RuleOneGuard(development_mode=True)(bad)
    assert "absolute_rule" in raised.value.findings[0]

    with caplog.at_level(logging.ERROR):
        RuleOneGuard(development_mode=False)(bad)
    assert "rule 1" in caplog.text and "absolute_rule" in caplog.text


def test_caller_data_and_model_answers_are_not_instructions() -> None:
    messages = [
        Message.system("Decide the style of the page."),
        Message.user(f"The filters are {quote(['NEVER say never', 'e.g. kawaii -> anime'])}."),
        Message.assistant("Kawaii ALWAYS means anime, for example."),
    ]

    assert check_messages(messages) == []
    # The same words outside JSON are instructions, and are caught.
    unquoted = [Message.user("The filters are: NEVER say never, e.g. kawaii -> anime.")]
    codes = {finding.code for finding in check_messages(unquoted)}
    assert codes == {"absolute_rule", "example_terms", "term_mapping"}


def test_the_guard_plugs_into_the_llm_registry() -> None:
    settings = LLMSettings(
        default_model="scripted", models={"scripted": ModelDefinition(backend="scripted")}
    )
    registry = LLMRegistry(settings, prompt_guard=RuleOneGuard(development_mode=True))
    client = registry.client_for()

    assert client.complete([Message.user("Describe a quiet harbour.")]) == "ok"
    with pytest.raises(RuleOneViolation):
        client.complete([Message.system("Such as: kawaii."), Message.user("Describe it.")])
