"""docs/ui.md against what it describes: a section per screen of the navigation, every
operation it names served by the API, and every command it shows run by some test."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "ui.md"
NAV = re.compile(r'<a href="(#/[^"]*)" data-nav="[^"]+">([A-Za-z]+)')
OPERATION = re.compile(r"`(GET|POST|PUT|DELETE) (/[^`?\s]*)[^`]*`")
COMMAND = re.compile(r"`imajin ([^`]+)`")
PLACEHOLDER = re.compile(r"^[A-Z][A-Z_]*$")  # ID, NAME: the reader fills it in


def _page() -> str:
    return PAGE.read_text(encoding="utf-8")


def test_every_screen_of_the_navigation_has_its_section() -> None:
    index = (ROOT / "src" / "imajin" / "web" / "index.html").read_text(encoding="utf-8")
    screens = NAV.findall(index)
    assert len(screens) == 9, screens
    headings = re.findall(r"^## (.+)$", _page(), flags=re.MULTILINE)
    for route, name in screens:
        assert f"{name} (`{route}`)" in headings, f"docs/ui.md has no `## {name} (`{route}`)`"


def _served(document: dict[str, Any], method: str, path: str) -> bool:
    item = document["paths"].get(path, {})
    return method.lower() in item


def test_every_operation_the_page_names_is_served(client: TestClient) -> None:
    document: dict[str, Any] = client.get("/openapi.json").json()
    named = OPERATION.findall(_page())
    assert len(named) > 20, named
    missing = [f"{method} {path}" for method, path in named if not _served(document, method, path)]
    assert not missing, f"docs/ui.md names operations the API does not serve: {missing}"


def _tested_args(command: str) -> str:
    """The command's arguments as a test writes them: `"keys", "create", "--scope"`."""
    words = []
    for word in command.split():
        if PLACEHOLDER.match(word):
            break
        words.append(f'"{word}"')
    return ", ".join(words)


@pytest.mark.parametrize("command", sorted(set(COMMAND.findall(_page()))))
def test_every_command_the_page_shows_runs_in_a_test(command: str) -> None:
    # The CLI runs as a subprocess in tests/cli, tests/pulls and tests/api; each of those
    # writes the arguments as a list of string literals.
    args = _tested_args(command)
    tests = [
        path for path in (ROOT / "tests").rglob("test_*.py") if path != Path(__file__).resolve()
    ]
    assert any(args in path.read_text(encoding="utf-8") for path in tests), (
        f"`imajin {command}` is shown in docs/ui.md but no test runs it ({args})"
    )
