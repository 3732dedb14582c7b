"""The hard block on every gateway endpoint, evasions included, and the stage metrics."""

from __future__ import annotations

import re

import pytest

from tests.gateway.conftest import GatewayFactory

# The safety suite's own hard-block example, plainly and behind two evasions it normalises
# (ASCII confusables and a split compound).
BLOCKED_FORMS = ["nude child", "nud3 ch1ld", "n-u-d-e c-h-i-l-d"]
ENDPOINTS = [
    ("/v1/chat/1to1/imagegen", "message"),
    ("/v1/chat/shorts/generate", "message"),
    ("/v1/chat/scenes/generate", "message"),
    ("/v1/chat/scenes/expand", "message"),
    ("/v1/chat/1to1/caption", "prompt"),
    ("/v1/imagegen", "prompt"),
]


@pytest.mark.parametrize("text", BLOCKED_FORMS)
def test_every_endpoint_refuses_a_blocked_request_before_any_llm_call(
    make_gateway: GatewayFactory, text: str
) -> None:
    gateway = make_gateway()
    for path, field in ENDPOINTS:
        response = gateway.client.post(path, json={field: text})
        assert response.status_code == 422, (path, response.text)
        error = response.json()["error"]
        assert (error["code"], error["reason"], error["field"]) == (
            "policy_violation",
            "minor_sexual",
            field,
        ), path
    assert gateway.llm.seen == []
    assert gateway.platform.jobs.page(limit=1)[1] == 0  # nothing queued anywhere


def test_stage_timings_reach_prometheus(make_gateway: GatewayFactory) -> None:
    gateway = make_gateway()
    response = gateway.client.post("/v1/chat/shorts/generate", json={"message": "a kite"})
    assert response.status_code == 200, response.text
    metrics = gateway.client.get("/metrics").text
    for stage in ("shorten", "expand", "generate", "check", "caption"):
        count = re.search(rf'imajin_gateway_stage_seconds_count{{stage="{stage}"}} (\S+)', metrics)
        assert count is not None, stage
        assert float(count.group(1)) == 1.0
