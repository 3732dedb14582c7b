"""Every non-assistant endpoint through the clients, against the real app (live HTTP).

Jobs run for real on the tiny SD 1.5 model where a test needs their files; the
event streams are read until the job's terminal event, so no test polls.
"""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import httpx
import pytest
from PIL import Image
from pydantic import ValidationError

from imajin.client import (
    AsyncImajinClient,
    EventPublic,
    ImajinAPIError,
    ImajinClient,
    JobStatus,
    VariationCreate,
)
from imajin.contracts.events import JOB_TERMINAL_EVENTS
from imajin.contracts.gateway import ChatImageResponse, ImagegenResponse
from imajin.contracts.studio import StudioConfigUpdate
from imajin.testing.manifest import write_tiny_manifest
from tests.gateway.conftest import FixedScorer, GatewayFactory
from tests.studio.conftest import ServedFactory


def until_terminal(events: list[EventPublic]) -> str:
    assert events and events[-1].type in JOB_TERMINAL_EVENTS, [e.type for e in events]
    return events[-1].type


def test_variations_from_create_to_delete(
    make_served: ServedFactory, data_dir: Path, tiny_sd15_path: Path
) -> None:
    write_tiny_manifest(data_dir, {"tiny-sd15": tiny_sd15_path})  # HTTP takes model ids
    live, _platform = make_served()
    request = VariationCreate.model_validate(
        {
            "name": "harbour",
            "category": "towns",
            "families": ["og"],
            "generation": {
                "prompt": "a small harbour, watercolour",
                "seed": 3,
                "model": "tiny-sd15",
                "inferenceSteps": 2,
            },
        }
    )
    with ImajinClient(live.url) as imajin:
        created = imajin.create_variation(request)
        assert created.status == "queued" and created.job_id
        events = list(imajin.job_events(created.job_id))
        assert until_terminal(events) == "JOB_SUCCEEDED"
        assert all(e.job_id == created.job_id for e in events)
        # Resuming after the first event replays the rest, and only the rest; live
        # previews are not history (each replaces the last, and the job's end drops it).
        rest = list(imajin.job_events(created.job_id, last_event_id=events[0].id))
        assert [e.id for e in rest] == [e.id for e in events[1:] if e.type != "PREVIEW"]

        variation = imajin.get_variation(created.id)
        assert variation.status == "complete" and variation.generation_params.seed == 3
        assert imajin.get_variation_by_name("harbour").id == created.id
        page = imajin.list_variations(category="towns", limit=5)
        assert (page.total, [v.id for v in page.items]) == (1, [created.id])
        assert imajin.list_variations(category="elsewhere").total == 0

        derivative = variation.derivatives[0]
        version = derivative.public_url.rpartition("?v=")[2]
        image = imajin.get_derivative("harbour", derivative.derivative_name, version=version)
        assert Image.open(io.BytesIO(image)).format == "WEBP"
        assert len(image) == derivative.file_size

        job = imajin.get_job(created.job_id)
        assert job.status == JobStatus.SUCCEEDED and job.kind == "variation"
        jobs = imajin.list_jobs(kind="variation", status="succeeded")
        assert [j.id for j in jobs.items] == [created.job_id]

        again = imajin.regenerate_variation(created.id, new_seed=True)
        assert again.job_id and again.job_id != created.job_id
        until_terminal(list(imajin.job_events(again.job_id)))

        assert imajin.delete_variation(created.id) is None
        with pytest.raises(ImajinAPIError) as gone:
            imajin.get_variation(created.id)
        assert gone.value.status == 404 and gone.value.code == "not_found"


def test_the_studio_through_the_async_client(make_served: ServedFactory) -> None:
    live, _platform = make_served()

    async def run() -> None:
        async with AsyncImajinClient(live.url) as imajin:
            config = await imajin.get_config()
            assert config.steps == 2
            changed = await imajin.update_config(StudioConfigUpdate(webp_quality=80))
            assert changed.webp_quality == 80 and changed.steps == 2
            assert (await imajin.update_config({"steps": 3})).steps == 3
            with pytest.raises(ValidationError, match="steps"):  # checked before sending
                await imajin.update_config({"steps": 0})

            mini = next(found for found in await imajin.list_sets() if found.name == "mini")
            assert (mini.name, mini.item_count) == ("mini", 3)
            info = await imajin.get_set("mini", theme="autumn")
            assert [item.item for item in info.items] == [
                "Alpha Circle",
                "Beta Square",
                "Gamma Star",
            ]
            assert all("autumn" in item.prompt for item in info.items)
            assert (await imajin.random_theme()).theme

            batch = await imajin.create_batch("mini", user_theme="autumn", seed=1)
            assert batch.total == 3 and len(batch.job_ids) == 3
            jobs = await imajin.list_jobs(group_id=batch.batch_id, limit=10)
            assert sorted(j.id for j in jobs.items) == sorted(batch.job_ids)
            for job_id in batch.job_ids[1:]:
                cancelled = await imajin.cancel_job(job_id)
                assert cancelled.cancel_requested or cancelled.status == "cancelled"
            first = [e async for e in imajin.job_events(batch.job_ids[0])]
            assert first[-1].type == "JOB_SUCCEEDED"

            detail = await imajin.get_batch(batch.batch_id)
            done = next(item for item in detail.items if item.job_id == batch.job_ids[0])
            assert done.image_url and done.sidecar_url
            png = await imajin.get_output(done.image_url)
            assert Image.open(io.BytesIO(png)).format == "PNG"
            assert b'"prompt"' in await imajin.get_output(done.sidecar_url)
            page = await imajin.list_batches(limit=5)
            assert [b.batch_id for b in page.items] == [batch.batch_id]

            accepted = await imajin.generate({"prompt": "a paper boat", "seed": 4})
            assert accepted.status == "queued"
            assert (await imajin.get_job(accepted.job_id)).kind == "generate"

            with pytest.raises(ImajinAPIError) as unsafe:
                await imajin.get_output("../secrets.png")
            assert unsafe.value.status in (400, 404)

    asyncio.run(run())


def test_the_gateway_endpoints(make_gateway: GatewayFactory) -> None:
    gateway = make_gateway(scorer=FixedScorer([0.0]))
    # The gateway suite's app runs under its TestClient; this client calls it in-process.
    transport = httpx.ASGITransport(app=gateway.client.app)

    async def run() -> None:
        async with AsyncImajinClient("http://gateway.test", transport=transport) as imajin:
            expanded = await imajin.expand("shorts", {"message": "a lighthouse at dusk"})
            assert expanded.prompt.startswith("a lighthouse")
            assert expanded.shortened_message is None
            assert expanded.policy.endpoint_policy == "moderated"
            caption = await imajin.caption("a lighthouse on a cliff")
            assert caption.caption.startswith("A quiet lighthouse")

            chat = await imajin.chat_image("1to1", {"message": "a red kite", "seed": 5})
            assert isinstance(chat, ChatImageResponse) and chat.seed == 5
            assert chat.policy.output_check is None and chat.image_base64

            image = await imajin.imagegen({"prompt": "a teapot", "seed": 1})
            assert isinstance(image, ImagegenResponse) and image.policy.endpoint_policy == "sfw"

            with pytest.raises(ValueError, match="kind"):
                await imajin.chat_image("poems", {"message": "x"})  # type: ignore[arg-type]
            with pytest.raises(ImajinAPIError) as blocked:
                await imajin.expand("scenes", {"message": "nude child"})
            assert blocked.value.status == 422 and blocked.value.code == "policy_violation"

    asyncio.run(run())


def test_models_and_health_endpoints(make_served: ServedFactory) -> None:
    live, _platform = make_served()
    with ImajinClient(live.url) as imajin:
        health = imajin.health()
        assert health.status == "ok" and health.storage.writable
        models = imajin.list_models()
        assert {m.type for m in models} <= {"photorealistic", "anime"}
        assert imajin.ml_health().status in ("ok", "degraded")
