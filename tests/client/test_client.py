"""The sync and async clients against a live server (real HTTP on a loopback port)."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from imajin.client import (
    AsyncImajinClient,
    GenerationConfig,
    ImajinAPIError,
    ImajinClient,
    ImajinConnectionError,
)
from imajin.config.settings import Scope
from imajin.wiring import Platform
from tests.assistant.conftest import StageScript, example_instance
from tests.conftest import LiveServer, free_port

KEEPER = {
    "reasoning": "r",
    "prompt": "lighthouse keeper with a lantern, watercolour",
    "negative_terms": [],
    "model_style": "anime",
}


def test_the_sync_client_covers_every_assistant_endpoint(
    server: LiveServer, script: StageScript
) -> None:
    script.answers["StyledExpansion"] = json.dumps(KEEPER)
    with ImajinClient(server.url) as imajin:
        health = imajin.health()
        assert health.status == "ok" and health.version

        pipelines = imajin.list_pipelines()
        assert [p.id for p in pipelines] == ["error-pages", "seo-location"]
        assert imajin.get_pipeline("error-pages").output.character is True

        prompts = imajin.generate_prompts("error-pages", count=2, seed=5, inputs={"code": 404})
        assert [p.seed for p in prompts] == [5, 6]
        assert all(p.metadata["permutation"]["code"] == "404" for p in prompts)

        config = imajin.analyze_context(
            "bakery",
            city="Lyon",
            filters=["rustic"],
            maturity={"maximumRating": "sfw"},
            instance_config=example_instance(),
        )
        assert isinstance(config, GenerationConfig)
        assert config.maturity_level == "sfw" and config.reasoning_chain[0].stage == "term_analysis"


def test_errors_carry_the_servers_code_field_and_details(
    server: LiveServer, script: StageScript
) -> None:
    with ImajinClient(server.url) as imajin:
        with pytest.raises(ImajinAPIError) as missing:
            imajin.analyze_context("bakery")
        assert missing.value.status == 422 and missing.value.code == "instance_config_missing"
        assert missing.value.field == "instanceConfig" and missing.value.request_id

        script.answers["Decision"] = "no json"
        with pytest.raises(ImajinAPIError) as failed:
            imajin.analyze_context("bakery", instance_config=example_instance())
        assert failed.value.status == 502
        assert failed.value.details == {"stage": "validation", "cause": "llm_output_invalid"}

        with pytest.raises(ImajinAPIError) as unknown:
            imajin.get_pipeline("nope")
        assert unknown.value.status == 404 and "error-pages" in unknown.value.message


def test_the_async_client_runs_requests_concurrently(server: LiveServer) -> None:
    async def run() -> list[GenerationConfig]:
        async with AsyncImajinClient(server.url) as imajin:
            assert (await imajin.health()).status == "ok"
            assert len(await imajin.list_pipelines()) == 2
            assert (await imajin.get_pipeline("seo-location")).output.negative_mode == "indexable"
            inputs = {"category": "bakery", "city": "Lyon"}
            [prompt] = await imajin.generate_prompts("seo-location", inputs=inputs)
            assert prompt.model == "photorealistic"
            return list(
                await asyncio.gather(
                    *(
                        imajin.analyze_context(
                            city, filters=["cosy"], instance_config=example_instance()
                        )
                        for city in ("Lyon", "Porto", "Osaka")
                    )
                )
            )

    configs = asyncio.run(run())

    assert [c.instance_name for c in configs] == ["seo"] * 3


def test_api_keys_are_sent_and_refusals_raised(
    server: LiveServer, assistant_platform: Platform
) -> None:
    _record, key = assistant_platform.keys.create(scopes=[Scope.READ], name="reader")

    with ImajinClient(server.url) as anonymous, pytest.raises(ImajinAPIError) as refused:
        anonymous.list_pipelines()
    assert refused.value.status == 401

    with ImajinClient(server.url, api_key=key) as reader:
        assert len(reader.list_pipelines()) == 2
        with pytest.raises(ImajinAPIError) as forbidden:
            reader.generate_prompts("error-pages")
        assert forbidden.value.status == 403 and forbidden.value.code == "forbidden"


def test_an_unreachable_server_is_a_connection_error() -> None:
    unreachable_url = f"http://127.0.0.1:{free_port()}"
    with ImajinClient(unreachable_url, timeout=2) as imajin, pytest.raises(ImajinConnectionError):
        imajin.health()
    with pytest.raises(ValueError, match="base_url"):
        ImajinClient("127.0.0.1:8000")

    async def unreachable() -> None:
        async with AsyncImajinClient(unreachable_url, timeout=2) as imajin:
            await imajin.health()

    with pytest.raises(ImajinConnectionError):
        asyncio.run(unreachable())


def test_a_non_imajin_error_body_is_kept_as_text() -> None:
    transport = httpx.MockTransport(lambda _request: httpx.Response(500, text="proxy broke"))
    with (
        ImajinClient("http://imajin.test", transport=transport) as imajin,
        pytest.raises(ImajinAPIError) as raised,
    ):
        imajin.health()
    assert raised.value.code == "http_error" and raised.value.message == "proxy broke"
