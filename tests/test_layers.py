"""Lower layers never import the top ones (DESIGN.md, "Packages and what each owns")."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

import imajin

SRC = Path(imajin.__file__).parent
LOWER = (
    "engine",
    "imaging",
    "safety",
    "config",
    "storage",
    "store",
    "llm",
    "events",
    "jobs",
    "keys",
    "vision",
)
TOP = ("api", "web", "wiring", "cli")


def imported_modules(path: Path) -> set[str]:
    """Every absolute ``imajin...`` module a file imports, lazily (inside a function) or not."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in found if name.startswith("imajin.")}


def forbidden(module: str) -> bool:
    return any(module == f"imajin.{top}" or module.startswith(f"imajin.{top}.") for top in TOP)


@pytest.mark.parametrize("package", LOWER)
def test_lower_layers_do_not_import_the_top(package: str) -> None:
    files = sorted((SRC / package).rglob("*.py")) or [SRC / f"{package}.py"]
    offences = [
        f"{path.relative_to(SRC)} imports {module}"
        for path in files
        for module in sorted(imported_modules(path))
        if forbidden(module)
    ]
    assert offences == []


def test_the_check_sees_lazy_and_from_imports(tmp_path: Path) -> None:
    source = tmp_path / "x.py"
    source.write_text(
        "def f():\n    from imajin.wiring import build_platform\n"
        "import imajin.api.app\nfrom imajin import cli\n",
        encoding="utf-8",
    )
    assert {m for m in imported_modules(source) if forbidden(m)} >= {
        "imajin.wiring",
        "imajin.api.app",
        "imajin.cli",
    }


# What a client machine need not have: the web stack, the database layer, the ML stack,
# and the server's own packages.
SERVER_ONLY = (
    "fastapi",
    "starlette",
    "sqlalchemy",
    "alembic",
    "torch",
    "diffusers",
    "transformers",
    "pyvips",
    "imajin.store",
    "imajin.api",
    "imajin.engine",
    "imajin.wiring",
)


def test_importing_the_client_loads_no_server_library() -> None:
    # A fresh interpreter: this one has the whole server loaded already.
    script = "import json, sys\nimport imajin.client\nprint(json.dumps(sorted(sys.modules)))\n"
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    loaded = json.loads(done.stdout)
    offenders = [
        name
        for name in loaded
        if any(name == banned or name.startswith(f"{banned}.") for banned in SERVER_ONLY)
    ]
    assert offenders == []
    assert "imajin.client" in loaded and "httpx" in loaded  # it did import the client
