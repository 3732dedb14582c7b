"""Gateway fixtures: the platform over the tiny Z-Image pipeline, with a scripted LLM.

The LLM double answers by step (recognised from its instructions) and records
every prompt it was sent, so tests can see what reached it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from imajin.api.app import create_app
from imajin.config.loader import load_settings
from imajin.llm import CallPolicy, Completion, CompletionRequest, LLMClient, ScriptedBackend
from imajin.store.migrate import upgrade
from imajin.wiring import Platform, PlatformOverrides, build_platform

DEFAULT_ANSWERS = {
    "shorten": {"message": "a lighthouse on a cliff at dusk"},
    "expand": {"prompt": "a lighthouse on a rocky cliff at dusk, warm light, calm sea"},
    "caption": {"caption": "A quiet lighthouse glows on the cliff as the evening sea rests"},
}


def step_of(request: CompletionRequest) -> str:
    text = request.messages[0].content
    if text.startswith("Shorten"):
        return "shorten"
    if text.startswith("Write a caption"):
        return "caption"
    return "expand"


@dataclass
class ScriptedLLM:
    """Answers per step; a list answers in turn (last one repeats); an exception is raised."""

    answers: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_ANSWERS))
    seen: list[tuple[str, str]] = field(default_factory=list)

    def __call__(self, request: CompletionRequest) -> str | Completion:
        step = step_of(request)
        self.seen.append((step, request.messages[0].content))
        answer = self.answers[step]
        if isinstance(answer, list):
            answer = answer.pop(0) if len(answer) > 1 else answer[0]
        if isinstance(answer, BaseException):
            raise answer
        return json.dumps(answer)

    def steps(self) -> list[str]:
        return [step for step, _ in self.seen]


@dataclass
class FixedScorer:
    """A scorer double for the refusal paths (the real classifier is tested on its own)."""

    scores: list[float]
    name: str = "yahoo-open-nsfw"
    calls: int = 0

    def score(self, image: Image.Image) -> float:
        self.calls += 1
        return self.scores[min(self.calls - 1, len(self.scores) - 1)]


@dataclass
class Gateway:
    platform: Platform
    client: TestClient
    llm: ScriptedLLM


GatewayFactory = Callable[..., Gateway]


@pytest.fixture
def make_gateway(tmp_path: Path, tiny_zimage_path: Path) -> Iterator[GatewayFactory]:
    platforms: list[Platform] = []
    clients: list[TestClient] = []

    def make(*, scorer: Any = None, llm_client: LLMClient | None = None, **env: str) -> Gateway:
        environ = {
            "IMAJIN_DATA_DIR": str(tmp_path / f"data{len(platforms)}"),
            "IMAJIN_JOBS__POLL_INTERVAL_S": "0.05",
            "IMAJIN_GATEWAY__MODEL": str(tiny_zimage_path),
            **env,
        }
        settings = load_settings(environ=environ, cwd=tmp_path)
        scripted = ScriptedLLM()
        client = llm_client or LLMClient.for_backend(
            ScriptedBackend(respond=scripted), policy=CallPolicy(retries=0, output_retries=1)
        )
        platform = build_platform(
            settings, overrides=PlatformOverrides(gateway_llm=client, image_scorer=scorer)
        )
        upgrade(platform.database)
        test_client = TestClient(create_app(platform))
        test_client.__enter__()
        platforms.append(platform)
        clients.append(test_client)
        return Gateway(platform=platform, client=test_client, llm=scripted)

    yield make
    for test_client in clients:
        test_client.__exit__(None, None, None)
    for platform in platforms:
        platform.close()
