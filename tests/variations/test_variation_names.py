"""One name rule: every name the API accepts is a folder storage accepts."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from imajin.storage.local import LocalFileStorage
from imajin.storage.paths import UnsafePath
from imajin.variations.schemas import NAME_PATTERN


@given(name=st.from_regex(NAME_PATTERN, fullmatch=True))
def test_every_accepted_name_is_a_storable_folder(name: str) -> None:
    storage = LocalFileStorage(Path("/srv/images"))
    assert storage.path(f"{name}/masters/og-1200x675.webp").name == "og-1200x675.webp"


@pytest.mark.parametrize("name", ["-rf", "--help", ".hidden", "a.b", "a/b", "", "x" * 101])
def test_names_storage_or_a_shell_would_misread_are_refused(name: str) -> None:
    assert re.fullmatch(NAME_PATTERN, name) is None


def test_the_old_pattern_let_a_storage_refusal_through() -> None:
    # Regression guard: "-rf" matched the API's pattern but storage refused it (unsafe_path).
    with pytest.raises(UnsafePath):
        LocalFileStorage(Path("/srv/images")).path("-rf/masters/a.webp")
