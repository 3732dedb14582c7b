"""Assistant fixtures: a scripted LLM that answers by answer type, and the app with the router.

Every prompt in these tests passes the rule-1 guard in development mode, so a
violation anywhere in the shipped chain or pipelines fails the test that sends it.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi import FastAPI
from fastapi.testclient import TestClient

from imajin.api.app import create_app
from imajin.assistant import AssistantService, RuleOneGuard, compose_assistant
from imajin.assistant.cache import SqlAnswerCache
from imajin.assistant.instance import InstanceCatalog
from imajin.assistant.pipeline_catalog import PipelineCatalog
from imajin.config.settings import Settings
from imajin.llm import CallPolicy, CompletionRequest, LLMClient, ScriptedBackend
from imajin.llm.scripted import minimal_instance
from imajin.store.database import Database
from imajin.wiring import Platform, PlatformOverrides, build_platform

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "instances"
FAST = CallPolicy(retries=0, output_retries=1, backoff_s=0.0, timeout_s=10)
MODELS = ("scripted", "scripted-large")

Answer = str | Callable[[CompletionRequest], str]


def example_instance(name: str = "seo") -> dict[str, Any]:
    """An example instance configuration from ``examples/instances`` as a mapping."""
    data: dict[str, Any] = yaml.safe_load((EXAMPLES / f"{name}.yaml").read_text())
    return data


def family(request: CompletionRequest) -> str:
    """The answer type a request asks for, without its goal group (``Extraction``)."""
    return request.schema_name.split("_")[0]


def user_text(request: CompletionRequest) -> str:
    """The question of a request (its first user message)."""
    return next(m.content for m in request.messages if m.role == "user")


class StageScript:
    """Answers each question by its answer type; records arrival order and overlap.

    Unscripted answer types get the smallest valid answer. ``answers[name]`` is a
    JSON text or a function of the request; a list is used up one per request.
    """

    def __init__(self) -> None:
        self.answers: dict[str, Answer | list[Answer]] = {}
        self.delay_s = 0.0
        self.barriers: dict[str, threading.Barrier] = {}
        """Answer type to a barrier its questions wait at: they must be in flight together."""
        self.arrivals: list[str] = []
        self.peak: Counter[str] = Counter()
        self._running: Counter[str] = Counter()
        self._lock = threading.Lock()

    def __call__(self, request: CompletionRequest) -> str:
        kind = family(request)
        with self._lock:
            self.arrivals.append(kind)
            self._running[kind] += 1
            self.peak[kind] = max(self.peak[kind], self._running[kind])
            scripted = self.answers.get(kind)
            if isinstance(scripted, list):
                scripted = scripted.pop(0) if scripted else None
        try:
            if kind in self.barriers:
                self.barriers[kind].wait(timeout=10)
            time.sleep(self.delay_s)
            if scripted is None:
                assert request.json_schema is not None
                return json.dumps(minimal_instance(request.json_schema))
            return scripted(request) if callable(scripted) else scripted
        finally:
            with self._lock:
                self._running[kind] -= 1


@pytest.fixture
def script() -> StageScript:
    return StageScript()


@pytest.fixture
def backend(script: StageScript) -> ScriptedBackend:
    return ScriptedBackend(respond=script)


@pytest.fixture
def llm(backend: ScriptedBackend) -> LLMClient:
    return LLMClient.for_backends(
        dict.fromkeys(MODELS, backend),
        default=MODELS[0],
        policy=FAST,
        prompt_guard=RuleOneGuard(development_mode=True),
    )


ServiceFactory = Callable[..., AssistantService]


@pytest.fixture
def make_service(llm: LLMClient, database: Database, tmp_path: Path) -> ServiceFactory:
    """Build an assistant over the scripted LLM and the (per-backend) test database."""

    def make(
        *,
        instances: dict[str, Any] | None = None,
        default: str | None = None,
        cache: bool = True,
        operator_dir: Path | None = None,
    ) -> AssistantService:
        return compose_assistant(
            llm=llm,
            cache=SqlAnswerCache(database) if cache else None,
            instances=InstanceCatalog(instances or {}, default=default, base_dir=tmp_path),
            pipelines=PipelineCatalog(operator_dir=operator_dir or tmp_path / "pipelines"),
            llm_backends=dict.fromkeys(MODELS, "scripted"),
        )

    return make


@pytest.fixture
def service(make_service: ServiceFactory) -> AssistantService:
    return make_service()


@pytest.fixture
def assistant_platform(
    settings: Settings, database: Database, service: AssistantService
) -> Iterator[Platform]:
    """A platform whose assistant is the scripted one (wiring.py builds the real one)."""
    platform = build_platform(
        settings, database=database, overrides=PlatformOverrides(assistant=service)
    )
    yield platform
    platform.close()


@pytest.fixture
def assistant_app(assistant_platform: Platform) -> FastAPI:
    return create_app(assistant_platform)


@pytest.fixture
def http(assistant_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(assistant_app) as client:
        yield client


def analyze_body(**overrides: Any) -> dict[str, Any]:
    """A valid /analyze-context body with the example SEO instance."""
    body: dict[str, Any] = {
        "category": "bakery",
        "city": "Lyon",
        "filters": ["rustic", "family-run"],
        "instanceConfig": example_instance(),
    }
    body.update(overrides)
    return body
