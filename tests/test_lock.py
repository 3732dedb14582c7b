"""The installed environment matches requirements.lock (issue 11 item 1).

`make install` installs from the lock, so a difference means the environment
was changed by hand or the lock was refreshed without reinstalling: either
way the suite would not be testing what a fresh machine gets.
"""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements.lock"
EXTRAS = ("dev", "postgres", "celery")  # the Makefile's EXTRAS
# "name==version", optionally followed by " ; marker"; "# via" comment lines are skipped.
_PIN = re.compile(r"^(?P<req>[A-Za-z0-9][^#\s;]*==[^\s;#]+)\s*(?:;(?P<marker>[^#]*))?")


def _locked() -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in LOCK.read_text(encoding="utf-8").splitlines():
        if not (match := _PIN.match(line)):
            continue
        text = match["req"] + (f"; {match['marker']}" if match["marker"] else "")
        requirement = Requirement(text)
        if requirement.marker is None or requirement.marker.evaluate():
            (specifier,) = requirement.specifier
            pins[canonicalize_name(requirement.name)] = specifier.version
    return pins


def _installed(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def test_the_lock_pins_every_direct_dependency() -> None:
    pins = _locked()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = [*project["dependencies"]]
    for extra in EXTRAS:
        declared += project["optional-dependencies"][extra]
    missing = [
        Requirement(text).name
        for text in declared
        if canonicalize_name(Requirement(text).name) not in pins
    ]
    assert pins, f"{LOCK} pins nothing"
    assert not missing, f"not in {LOCK.name}: {missing}; run `make lock`"


def test_installed_versions_match_the_lock() -> None:
    differences = {
        name: (locked, _installed(name))
        for name, locked in _locked().items()
        if _installed(name) != locked
    }
    assert not differences, (
        f"installed versions differ from {LOCK.name} (name: (locked, installed)): "
        f"{differences}; run `make install` (or `make lock` if pyproject.toml changed)"
    )
