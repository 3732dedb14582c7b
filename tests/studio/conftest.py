"""Studio fixtures: a data directory with a three-row set, and a live server over it."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from imajin.api.app import create_app
from imajin.config.loader import load_settings
from imajin.store.migrate import upgrade
from imajin.wiring import Platform, build_platform
from tests.conftest import LiveServer

MINI_YAML = """\
name: mini
description: Three shapes for tests.
csv_path: mini.csv
base_prompt: a flat icon
prompt_template: "{name} made of {material}"
style_suffix: clean vector style
example_theme: pastel colours
width: 64
height: 64
negative_prompt: text, watermark
"""

MINI_CSV = """\
name,material,negative_prompt
Alpha Circle,glass,
Beta Square,wood,knots
Gamma Star,brass,
"""

ServedFactory = Callable[..., tuple[LiveServer, Platform]]


def write_set(folder: Path, name: str, yaml_text: str, csv_text: str | None) -> Path:
    """Write ``<folder>/<name>.yaml`` (and ``<name>.csv`` when given)."""
    folder.mkdir(parents=True, exist_ok=True)
    if csv_text is not None:
        (folder / f"{name}.csv").write_text(csv_text, encoding="utf-8")
    path = folder / f"{name}.yaml"
    path.write_text(yaml_text, encoding="utf-8")
    return path


def studio_environ(data_dir: Path, model: Path, **extra: str) -> dict[str, str]:
    return {
        "IMAJIN_DATA_DIR": str(data_dir),
        "IMAJIN_JOBS__POLL_INTERVAL_S": "0.05",
        "IMAJIN_STUDIO__DEFAULTS__MODEL": str(model),
        "IMAJIN_STUDIO__DEFAULTS__STEPS": "2",
        **extra,
    }


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A data directory whose ``sets/`` holds the three-row ``mini`` set."""
    data = tmp_path / "data"
    write_set(data / "sets", "mini", MINI_YAML, MINI_CSV)
    return data


@pytest.fixture
def make_served(tmp_path: Path, data_dir: Path, tiny_sd15_path: Path) -> Iterator[ServedFactory]:
    """Start a live server over :func:`data_dir` (extra ``IMAJIN_*`` settings as keywords)."""
    opened: list[tuple[LiveServer, Platform]] = []

    def make(**extra: str) -> tuple[LiveServer, Platform]:
        environ = studio_environ(data_dir, tiny_sd15_path, **extra)
        platform = build_platform(load_settings(environ=environ, cwd=tmp_path))
        upgrade(platform.database)
        live = LiveServer(create_app(platform)).__enter__()
        opened.append((live, platform))
        return live, platform

    yield make
    for live, platform in opened:
        live.__exit__(None, None, None)
        platform.close()


@pytest.fixture
def served(make_served: ServedFactory) -> tuple[LiveServer, Platform]:
    return make_served()


def wait_batch(live: LiveServer, batch_id: str, timeout: float = 120) -> dict[str, Any]:
    """Poll ``GET /api/batches/{id}`` until the batch has ended."""
    deadline = time.monotonic() + timeout
    while True:
        body: dict[str, Any] = httpx.get(f"{live.url}/api/batches/{batch_id}").json()
        if body["status"] in ("complete", "partial", "failed", "cancelled"):
            return body
        assert time.monotonic() < deadline, body
        time.sleep(0.1)
