"""Each service is the only door to its data (issue 10 item 1).

Routes depend on one service each (``VariationsDep``, ``StudioDep``…, see
``imajin.api.deps``); none reaches through the platform into a repository, a
session or the database.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import imajin

ROUTERS = Path(imajin.__file__).parent / "api" / "routers"  # read as text, not imported
FORBIDDEN_NAMES = {"Platform", "PlatformDep", "Session", "Database", "get_platform"}
FORBIDDEN_ATTRIBUTES = {"repository", "database", "session", "platform", "batches"}
FORBIDDEN_MODULES = ("sqlalchemy", "imajin.wiring", "imajin.store.database")


def offences(source: str) -> list[str]:
    """What in ``source`` reaches past a service: one ``line: what`` per use."""
    found = []
    for node in ast.walk(ast.parse(source)):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Name) and node.id in FORBIDDEN_NAMES:
            found.append(f"{line}: {node.id}")
        elif isinstance(node, ast.Attribute) and node.attr in FORBIDDEN_ATTRIBUTES:
            found.append(f"{line}: .{node.attr}")
        elif isinstance(node, ast.ImportFrom | ast.Import):
            modules = [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            modules += [alias.name for alias in node.names]
            found += [
                f"{line}: import {module}"
                for module in modules
                if module.startswith(FORBIDDEN_MODULES) or module.endswith(".repository")
            ]
            if isinstance(node, ast.ImportFrom):
                found += [
                    f"{line}: import {alias.name}"
                    for alias in node.names
                    if alias.name in FORBIDDEN_NAMES
                ]
    return sorted(found, key=lambda entry: int(entry.split(":")[0]))


@pytest.mark.parametrize("router", sorted(ROUTERS.glob("*.py")), ids=lambda path: path.name)
def test_routes_reach_data_only_through_services(router: Path) -> None:
    assert offences(router.read_text(encoding="utf-8")) == []


def test_the_check_sees_a_route_that_reaches_into_a_repository() -> None:
    source = """
from imajin.api.deps import PlatformDep
from imajin.studio.repository import Batch

def list_batches(platform: PlatformDep) -> None:
    platform.studio.batches.page(limit=1, offset=0)
    platform.jobs.repository.page()

def assistant(request) -> None:
    return request.app.state.platform.assistant
"""
    assert offences(source) == [
        "2: import PlatformDep",
        "3: import imajin.studio.repository",
        "5: PlatformDep",
        "6: .batches",
        "7: .repository",
        "10: .platform",
    ]
