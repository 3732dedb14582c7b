"""Every gateway endpoint once on the real embedded LLM (SmolLM2-135M), end to end.

The scripted LLM covers the branches elsewhere; here a real small model writes the
shortened message, the expansion and the caption. Quality is not asserted, only that
each answer fits its schema, passes the policy and reaches the response.
"""

from __future__ import annotations

import base64
import io
from typing import TYPE_CHECKING

import pytest
from PIL import Image

from imajin.llm import CallPolicy, LLMClient
from imajin.safety import enforce
from tests.gateway.conftest import Gateway, GatewayFactory

if TYPE_CHECKING:
    from imajin.llm.backends.transformers_gguf import TransformersGGUFBackend

pytestmark = pytest.mark.slow

LONG_MESSAGE = (
    "we spent the whole afternoon walking along the old harbour wall, watching the fishing "
    "boats come in while the gulls circled and the light turned orange over the water"
)


@pytest.fixture
def gateway(make_gateway: GatewayFactory, embedded_backend: TransformersGGUFBackend) -> Gateway:
    llm = LLMClient.for_backend(
        embedded_backend, model_id="smollm2", policy=CallPolicy(timeout_s=600, output_retries=2)
    )
    # Waits as long as the LLM may take: a 202 under a loaded machine says nothing about
    # the flow, which is what this module checks.
    waits = {
        f"IMAJIN_GATEWAY__ENDPOINTS__{name.upper()}__TIMEOUT_S": "280"  # < the test timeout
        for name in ("chat_1to1", "shorts", "scenes", "imagegen")
    }
    return make_gateway(llm_client=llm, **waits)


def _image(body: dict[str, object]) -> Image.Image:
    return Image.open(io.BytesIO(base64.b64decode(str(body["image_base64"]))))


@pytest.mark.parametrize(
    ("path", "policy", "message", "stages"),
    [
        ("/v1/chat/1to1/imagegen", "unrestricted", "a red kite over a beach", {"expand"}),
        # Over 25 words: shortened first. One endpoint of the shared code path is enough.
        ("/v1/chat/shorts/generate", "moderated", LONG_MESSAGE, {"shorten", "expand"}),
        ("/v1/chat/scenes/generate", "moderated", "a quiet library at night", {"expand"}),
    ],
)
def test_chat_flows_on_the_embedded_llm(
    gateway: Gateway, path: str, policy: str, message: str, stages: set[str]
) -> None:
    response = gateway.client.post(path, json={"message": message, "seed": 5})
    assert response.status_code == 200, response.text
    body = response.json()
    assert _image(body).format == "PNG"
    assert body["policy"]["endpoint_policy"] == policy
    for field in ("prompt_used", "caption"):
        assert body[field].strip()
        enforce(body[field], field=field)  # what the model wrote passes the hard block
    assert 1 <= len(body["caption"].split()) <= 15
    job = gateway.platform.jobs.get(body["job_id"])
    assert job.result is not None
    assert {*stages, "caption", "generate"} <= set(job.result["timings"])


def test_expand_and_caption_sub_steps_on_the_embedded_llm(gateway: Gateway) -> None:
    expand = gateway.client.post("/v1/chat/shorts/expand", json={"message": LONG_MESSAGE})
    assert expand.status_code == 200, expand.text
    body = expand.json()
    assert body["prompt"].strip() and body["shortened_message"]
    assert len(body["shortened_message"].split()) <= 25
    caption = gateway.client.post("/v1/chat/1to1/caption", json={"prompt": body["prompt"]})
    assert caption.status_code == 200, caption.text
    assert 1 <= len(caption.json()["caption"].split()) <= 15


def test_imagegen_with_the_embedded_llm_configured(gateway: Gateway) -> None:
    # /v1/imagegen writes no text with the LLM: the prompt is the caller's.
    response = gateway.client.post("/v1/imagegen", json={"prompt": "a teapot", "seed": 2})
    assert response.status_code == 200, response.text
    assert _image(response.json()).format == "PNG"
    assert gateway.platform.jobs.get(response.json()["job_id"]).kind == "imagegen"
