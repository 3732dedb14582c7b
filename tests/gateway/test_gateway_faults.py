"""The gateway when its LLM is down: 503 naming the stage, the job failed, nothing stored.

"Down" is real here: an OpenAI-compatible backend pointed at a port nobody listens on,
so the connection is refused exactly as it is when a vLLM or Ollama server is stopped.
"""

from __future__ import annotations

from sqlalchemy import text

from imajin.llm import CallPolicy, LLMClient
from imajin.llm.backends.openai_compat import OpenAICompatBackend, OpenAICompatOptions
from tests.conftest import free_port
from tests.gateway.conftest import Gateway, GatewayFactory


def _unreachable_llm() -> LLMClient:
    options = OpenAICompatOptions(base_url=f"http://127.0.0.1:{free_port()}/v1", model="m")
    return LLMClient.for_backend(
        OpenAICompatBackend(options), policy=CallPolicy(retries=0, output_retries=0)
    )


def _jobs(gateway: Gateway) -> list[tuple[str, str, str | None]]:
    with gateway.platform.database.session() as session:
        rows = session.execute(text("SELECT kind, status, error_code FROM jobs")).all()
    return [(row[0], row[1], row[2]) for row in rows]


def _stored_images(gateway: Gateway) -> list[str]:
    data_dir = gateway.platform.settings.data_dir
    return [p.name for p in data_dir.rglob("*") if p.suffix in {".png", ".jpg", ".webp"}]


def test_llm_down_is_503_naming_the_stage_and_the_job_fails(make_gateway: GatewayFactory) -> None:
    gateway = make_gateway(llm_client=_unreachable_llm())
    response = gateway.client.post("/v1/chat/shorts/generate", json={"message": "a boat"})
    assert response.status_code == 503, response.text
    error = response.json()["error"]
    assert error["code"] == "llm_unavailable"
    assert "expand" in error["message"]  # a short message skips shorten: expand is first
    assert _jobs(gateway) == [("chat_image", "failed", "llm_unavailable")]
    assert _stored_images(gateway) == []


def test_llm_down_on_a_sub_step_is_503_and_queues_nothing(make_gateway: GatewayFactory) -> None:
    gateway = make_gateway(llm_client=_unreachable_llm())
    long_message = " ".join(["a small wooden boat drifting on a calm lake"] * 4)  # > 25 words
    expand = gateway.client.post("/v1/chat/scenes/expand", json={"message": long_message})
    assert expand.status_code == 503, expand.text
    assert "shorten" in expand.json()["error"]["message"]
    caption = gateway.client.post("/v1/chat/1to1/caption", json={"prompt": "a lake"})
    assert caption.status_code == 503, caption.text
    assert "caption" in caption.json()["error"]["message"]
    assert _jobs(gateway) == []  # sub-steps answer inline; no job, nothing stored
    assert _stored_images(gateway) == []
