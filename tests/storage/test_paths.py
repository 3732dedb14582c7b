"""Path confinement: hostile names never leave the root; legitimate names resolve."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from imajin.storage.paths import UnsafePath, confine_path

HOSTILE = [
    # plain traversal
    "..",
    "../etc/passwd",
    "a/../../etc/passwd",
    "a/b/../../../x",
    "./a",
    "a/./b",
    # absolute and drive paths
    "/etc/passwd",
    "//server/share/x",
    "~/x",
    "~root/.ssh/id_rsa",
    "C:/Windows/win.ini",
    "c:x",
    # backslashes
    "..\\..\\windows",
    "a\\b",
    # NUL and control characters
    "image.png\x00.txt",
    "a\nb",
    "a\tb",
    # percent-encoded and double-encoded traversal
    "%2e%2e/%2e%2e/etc/passwd",
    "%2E%2E%2Fetc",
    "..%2fetc",
    "%252e%252e/etc",
    "%c0%ae%c0%ae/etc",
    "a%00b",
    # Unicode look-alikes of dots and slashes
    "\uff0e\uff0e/etc",  # fullwidth full stops
    "..\uff0fetc",  # fullwidth solidus
    "a\u2215..\u2215b",  # division slash
    "a\u2044b",  # fraction slash
    "\u2025/etc",  # two-dot leader
    "\ufe52\ufe52/x",  # small full stop
    "a\u3002\u3002/b",  # ideographic full stop
    # hidden files, empty segments
    ".env",
    "a/.git/config",
    "a//b",
    "a/",
    "",
    # other non-ASCII
    "caf\u00e9.png",
    "a\u200bb",  # zero-width space
]


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_names_are_rejected(tmp_path: Path, name: str) -> None:
    with pytest.raises(UnsafePath) as caught:
        confine_path(tmp_path, name, field="path")
    assert caught.value.field == "path"
    assert "`path`" in caught.value.message


def test_there_are_at_least_25_hostile_cases() -> None:
    assert len(HOSTILE) >= 25


@pytest.mark.parametrize(
    "name",
    [
        "image.png",
        "tarot_20261121-120000/20261121-120000_the-fool.png",
        "city-scenes/masters/og-1200x675.webp",
        "a/b/c/d/e.json",
        "v1.2.3_final",
        "x..y",  # dots inside a name are fine; only '.' and '..' segments are not
    ],
)
def test_legitimate_nested_names_resolve_inside_root(tmp_path: Path, name: str) -> None:
    resolved = confine_path(tmp_path, name)
    assert resolved == tmp_path.resolve().joinpath(*name.split("/"))
    assert resolved.is_relative_to(tmp_path.resolve())


def test_symlink_leading_outside_is_rejected(tmp_path: Path) -> None:
    root = tmp_path / "root"
    outside = tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (outside / "secret.txt").write_text("no", encoding="utf-8")
    (root / "link").symlink_to(outside)
    with pytest.raises(UnsafePath, match="outside its root"):
        confine_path(root, "link/secret.txt")


def test_symlink_staying_inside_is_allowed(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "x.png").write_bytes(b"x")
    (tmp_path / "alias").symlink_to(tmp_path / "real")
    assert confine_path(tmp_path, "alias/x.png").name == "x.png"


@given(st.text(max_size=40))
def test_any_string_either_fails_cleanly_or_stays_inside(name: str) -> None:
    root = Path("/srv/imajin-root")
    try:
        resolved = confine_path(root, name)
    except UnsafePath:
        return
    assert resolved.is_relative_to(root)
    assert ".." not in resolved.relative_to(root).parts
