"""Each service is the only door to its data (issue 10 item 1).

Routes depend on one service each (``VariationsDep``, ``StudioDep``…, see
``imajin.api.deps``); none reaches through the platform into a repository, a
session or the storage layer (``imajin.store``), and no dependency in
``imajin.api.deps`` but ``PlatformDep`` (for auth) hands one out.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Annotated, get_args, get_origin

import pytest

import imajin
import imajin.api.deps

ROUTERS = Path(imajin.__file__).parent / "api" / "routers"  # read as text, not imported
FORBIDDEN_NAMES = {"Platform", "PlatformDep", "Session", "Database", "get_platform"}
FORBIDDEN_ATTRIBUTES = {"repository", "database", "session", "platform", "batches"}
STORAGE_PACKAGES = ("sqlalchemy", "imajin.store")  # and every module inside them


def storage_module(module: str) -> bool:
    inside = any(module == top or module.startswith(f"{top}.") for top in STORAGE_PACKAGES)
    return inside or module.endswith(".repository")


def forbidden_module(module: str) -> bool:
    return storage_module(module) or module == "imajin.wiring"


def forbidden_name(name: str) -> bool:
    return name in FORBIDDEN_NAMES or name.endswith("Repository")


def offences(source: str) -> list[str]:
    """What in ``source`` reaches past a service: one ``line: what`` per use."""
    found = []
    for node in ast.walk(ast.parse(source)):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Name) and forbidden_name(node.id):
            found.append(f"{line}: {node.id}")
        elif isinstance(node, ast.Attribute) and node.attr in FORBIDDEN_ATTRIBUTES:
            found.append(f"{line}: .{node.attr}")
        elif isinstance(node, ast.ImportFrom | ast.Import):
            modules = [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            modules += [alias.name for alias in node.names]
            found += [f"{line}: import {module}" for module in modules if forbidden_module(module)]
            if isinstance(node, ast.ImportFrom):
                found += [
                    f"{line}: import {alias.name}"
                    for alias in node.names
                    if forbidden_name(alias.name)
                ]
    return sorted(found, key=lambda entry: int(entry.split(":")[0]))


@pytest.mark.parametrize("router", sorted(ROUTERS.glob("*.py")), ids=lambda path: path.name)
def test_routes_reach_data_only_through_services(router: Path) -> None:
    assert offences(router.read_text(encoding="utf-8")) == []


def storage_types() -> list[str]:
    """The dependency aliases in ``imajin.api.deps`` whose value is storage, not a service."""
    found = []
    for name, value in vars(imajin.api.deps).items():
        if get_origin(value) is not Annotated or name == "PlatformDep":
            continue
        given = get_args(value)[0]
        module, type_name = given.__module__, given.__name__
        if storage_module(module) or forbidden_name(type_name):
            found.append(f"{name}: {module}.{type_name}")
    return found


def test_route_dependencies_hand_out_services_not_storage() -> None:
    assert storage_types() == []


def test_the_check_sees_a_route_that_reaches_into_a_repository() -> None:
    source = """
from imajin.api.deps import PlatformDep
from imajin.studio.repository import Batch
from imajin.store.api_keys import ApiKeyRepository

def list_batches(platform: PlatformDep) -> None:
    platform.studio.batches.page(limit=1, offset=0)
    platform.jobs.repository.page()

def assistant(request) -> None:
    return request.app.state.platform.assistant

def keys(keys: ApiKeyRepository) -> None:
    keys.list()
"""
    assert offences(source) == [
        "2: import PlatformDep",
        "3: import imajin.studio.repository",
        "4: import imajin.store.api_keys",
        "4: import ApiKeyRepository",
        "6: PlatformDep",
        "7: .batches",
        "8: .repository",
        "11: .platform",
        "13: ApiKeyRepository",
    ]
