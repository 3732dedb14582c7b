"""Profile fixtures: the platform over the tiny Z-Image pipeline, real OpenCV, real photos.

The vision model is the one remote part: a local server speaking the OpenAI protocol
(:class:`~imajin.llm.testing.FakeOpenAIServer`), named from configuration like any
deployer's (``llm.models.vlm`` with ``options.vision``, ``vision.features_model: vlm``),
so the real feature extractor, schema and validation run.
"""

from __future__ import annotations

import io
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from fastapi.testclient import TestClient
from PIL import Image
from skimage import data
from sqlalchemy import select

from imajin.api.app import create_app
from imajin.config.loader import load_settings
from imajin.llm.testing import FakeOpenAIServer, schema_answer
from imajin.store.migrate import upgrade
from imajin.store.tables import Base
from imajin.testing.manifest import write_tiny_manifest
from imajin.wiring import Platform, PlatformOverrides, build_platform
from tests.gateway.conftest import FixedScorer

TINY_MODEL = "tiny-zimage"
FEATURES_RETRIES = 1
# Values of the shipped feature schema (imajin/vision/features.yaml).
ADULT_FEATURES: dict[str, Any] = {
    "hair_colour": "dark_brown",
    "hair_style": "short",
    "eye_colour": "hazel",
    "skin_tone": "light",
    "facial_hair": "none",
    "glasses": "none",
    "age_band": "26_35",
    "expression": "smiling",
    "distinctive_features": ["freckles"],
}


# Feature values of ADULT_FEATURES (and their prompt phrases) nothing else in a store says.
FEATURE_TEXT = ("dark_brown", "dark brown", "hazel", "freckles", "smiling")


def feature_text_in(text: str) -> list[str]:
    """The phrases of ``FEATURE_TEXT`` that ``text`` holds."""
    return [phrase for phrase in FEATURE_TEXT if phrase in text]


def stored_text(platform: Platform) -> str:
    """Every value of every row of every table of the platform's database, as one text."""
    parts: list[str] = []
    with platform.database.session() as session:
        for table in Base.metadata.sorted_tables:
            for row in session.execute(select(table)).all():
                parts.extend(str(value) for value in row)
    return "\n".join(parts)


def vision_server(**features: Any) -> FakeOpenAIServer:
    """A vision model answering every feature question with ``features`` (default: an adult),
    built on the schema the request carries; use it as a context manager."""
    return FakeOpenAIServer(respond=schema_answer(**(features or ADULT_FEATURES)))


@pytest.fixture
def vision_model() -> Iterator[FakeOpenAIServer]:
    with vision_server() as server:
        yield server


def closed_port_url() -> str:
    """The base URL of a loopback port nothing listens on (a vision model that is down)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


def vision_config(base_url: str) -> dict[str, Any]:
    """The configuration naming an OpenAI-compatible vision model at ``base_url``."""
    return {
        "llm": {
            "retries": 0,  # a closed port fails at once, not after backoffs
            "models": {
                "vlm": {
                    "backend": "openai",
                    "options": {"base_url": base_url, "model": "x", "vision": True},
                }
            },
        },
        "vision": {"features_model": "vlm", "features_retries": FEATURES_RETRIES},
    }


@dataclass
class Profiles:
    platform: Platform
    client: TestClient
    data_dir: Path


ProfileFactory = Callable[..., Profiles]


@pytest.fixture
def make_profiles(tmp_path: Path, tiny_zimage_path: Path) -> Iterator[ProfileFactory]:
    """``make_profiles(vision=base_url, **env)``: a served platform whose config.yaml names
    the vision model at ``base_url``; ``vision=None`` configures no vision model."""
    platforms: list[Platform] = []
    clients: list[TestClient] = []

    def make(*, vision: str | None = None, **env: str) -> Profiles:
        data_dir = tmp_path / f"data{len(platforms)}"
        write_tiny_manifest(data_dir, {TINY_MODEL: tiny_zimage_path})
        config = tmp_path / f"config{len(platforms)}.yaml"
        config.write_text(yaml.safe_dump(vision_config(vision) if vision else {}), "utf-8")
        environ = {
            "IMAJIN_CONFIG": str(config),
            "IMAJIN_DATA_DIR": str(data_dir),
            "IMAJIN_JOBS__POLL_INTERVAL_S": "0.05",
            "IMAJIN_GATEWAY__MODEL": TINY_MODEL,
            **env,
        }
        settings = load_settings(environ=environ, cwd=tmp_path)
        overrides = PlatformOverrides(image_scorer=FixedScorer([0.0]))
        platform = build_platform(settings, overrides=overrides)
        upgrade(platform.database)
        client = TestClient(create_app(platform))
        client.__enter__()
        platforms.append(platform)
        clients.append(client)
        return Profiles(platform=platform, client=client, data_dir=data_dir)

    yield make
    for client in clients:
        client.__exit__(None, None, None)
    for platform in platforms:
        platform.close()


def encode(image: Image.Image | np.ndarray, fmt: str = "JPEG", **options: Any) -> bytes:
    if isinstance(image, np.ndarray):
        image = Image.fromarray(image)
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def astronaut_jpeg(**options: Any) -> bytes:
    """NASA's portrait of Eileen Collins (public domain), shipped in scikit-image."""
    return encode(data.astronaut(), "JPEG", quality=92, **options)


def upload(client: TestClient, path: str, selfie: bytes, **fields: str) -> Any:
    return client.post(path, files={"selfie": ("selfie.jpg", selfie, "image/jpeg")}, data=fields)
