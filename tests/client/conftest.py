"""Client fixtures: the assistant app (scripted LLM), the studio's and the gateway's, served."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI

from tests.assistant.conftest import (  # noqa: F401  # fixtures shared with the assistant suite
    assistant_app,
    assistant_platform,
    backend,
    llm,
    make_service,
    script,
    service,
)
from tests.conftest import LiveServer
from tests.gateway.conftest import make_gateway  # noqa: F401  # the gateway suite's fixture
from tests.studio.conftest import data_dir, make_served  # noqa: F401  # the studio suite's


@pytest.fixture
def server(assistant_app: FastAPI) -> Iterator[LiveServer]:  # noqa: F811  # the fixture
    with LiveServer(assistant_app) as live:
        yield live
