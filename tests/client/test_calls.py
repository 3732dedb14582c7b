"""The call descriptions themselves: paths, bodies, query parameters, streams, binding."""

from __future__ import annotations

import asyncio
import inspect

import pytest
from pydantic import ValidationError

from imajin.client import (
    AsyncImajinClient,
    ImajinAPIError,
    ImajinClient,
    calls,
    calls_jobs,
    calls_studio,
    calls_variations,
)
from imajin.client.endpoints import Endpoint, Endpoints, StreamEndpoint
from imajin.client.sse import EventDecoder
from tests.conftest import LiveServer

EVENT = (
    '{"id": 3, "type": "JOB_PROGRESS", "jobId": "j", "subject": null, "payload": {},'
    ' "createdAt": "2026-01-01T00:00:00Z"}'
)


def test_path_segments_are_escaped_so_no_value_reaches_another_route() -> None:
    assert calls_variations.get_variation("a/b?c").path == "/api/images/variations/a%2Fb%3Fc"
    assert calls_jobs.get_job("../x").path == "/api/jobs/..%2Fx"
    # An output path keeps its folders; the server confines it to the outputs root.
    url = "/api/outputs/mini_1/0001 a.png"
    assert calls_studio.get_output(url).path == "/api/outputs/mini_1/0001%20a.png"


def test_bodies_are_the_contract_json_with_only_what_was_set() -> None:
    call = calls_variations.create_variation(
        {"name": "fox", "generation": {"prompt": "a fox", "inferenceSteps": 4}}
    )
    assert call.json == {"name": "fox", "generation": {"prompt": "a fox", "inferenceSteps": 4}}
    assert call.ok == (202,)
    assert calls_studio.update_config({"steps": None}).json == {"steps": None}  # clears it
    with pytest.raises(ValidationError, match="families"):
        calls_variations.create_variation(
            {"name": "fox", "generation": {"prompt": "a"}, "families": ["nope"]}
        )


def test_query_parameters_use_the_servers_names() -> None:
    call = calls_jobs.list_jobs(status="running", group_id="b1", limit=5)
    assert call.params == {"limit": 5, "offset": 0, "status": "running", "groupId": "b1"}
    with pytest.raises(ValueError, match="nope"):
        calls_jobs.list_jobs(status="nope")
    stream = calls_jobs.events(types=["JOB_FAILED", "JOB_SUCCEEDED"], subject="b1")
    assert stream.params == {"type": ["JOB_FAILED", "JOB_SUCCEEDED"], "subject": "b1"}
    assert calls_jobs.job_events("j", last_event_id=9).headers["Last-Event-ID"] == "9"


def test_the_decoder_reads_messages_and_skips_comments() -> None:
    decoder = EventDecoder()
    lines = [": keep-alive", "", "id: 3", "event: JOB_PROGRESS", f"data: {EVENT}", ""]
    events = [event for event in map(decoder.feed, lines) if event is not None]
    assert [(e.id, e.type, e.job_id) for e in events] == [(3, "JOB_PROGRESS", "j")]
    # A data field split over lines is one JSON document.
    head, _, tail = EVENT.partition(" ")
    assert decoder.feed(f"data: {head}") is None and decoder.feed(f"data:{tail}") is None
    split = decoder.feed("")
    assert split is not None and split.id == 3


def test_each_endpoint_is_described_once_and_bound_to_both_clients() -> None:
    entries = {
        name: entry
        for name, entry in vars(Endpoints).items()
        if isinstance(entry, Endpoint | StreamEndpoint)
    }
    # Every builder is bound (send_* take a request already built; clients send those as-is).
    builders = {name for name in calls.__all__ if name.islower() and not name.startswith("send_")}
    assert set(entries) == builders and len(entries) >= 35
    sync_client = ImajinClient("http://x.test")
    async_client = AsyncImajinClient("http://x.test")
    for name, entry in entries.items():
        assert entry.build.__name__ == name  # the method is named after its call
        sync_method = getattr(sync_client, name)
        async_method = getattr(async_client, name)
        assert sync_method.__doc__ == async_method.__doc__ == entry.build.__doc__
        assert inspect.signature(sync_method) == inspect.signature(entry.build)
    sync_client.close()
    asyncio.run(async_client.aclose())


def test_keys_and_identity(live_server: LiveServer) -> None:
    with ImajinClient(live_server.url) as anonymous:
        me = anonymous.whoami()
        assert me.auth_enabled is False and me.key_id is None
        # The first key switches authentication on, so this is the last anonymous call.
        admin = anonymous.create_key(["admin"], name="root")
        assert admin.key.startswith("imj_") and admin.scopes == ["admin"]
        with pytest.raises(ImajinAPIError) as refused:
            anonymous.list_keys()
        assert refused.value.status == 401

    with ImajinClient(live_server.url, api_key=admin.key) as imajin:
        me = imajin.whoami()
        assert me.auth_enabled is True and me.key_id == admin.id
        assert set(me.scopes) == {"read", "generate", "admin"}
        reader = imajin.create_key(["read"], name="reader")
        listed = {k.id: (k.name, k.created_at) for k in imajin.list_keys()}
        assert listed == {
            admin.id: ("root", admin.created_at),
            reader.id: ("reader", reader.created_at),
        }
        assert imajin.revoke_key(reader.id).revoked_at is not None
        with pytest.raises(ImajinAPIError) as last_admin:
            imajin.revoke_key(admin.id)
        assert last_admin.value.status == 409
