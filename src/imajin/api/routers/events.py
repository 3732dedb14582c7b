"""All domain events as a server-sent event stream, and job analytics."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Query
from fastapi.responses import StreamingResponse

from imajin.api.auth import ReadAccess
from imajin.api.deps import MAX_POSITION, AnalyticsDep, EventsDep
from imajin.events.sse import stream_events

router = APIRouter(tags=["events"], dependencies=[ReadAccess])


@router.get(
    "/api/events",
    response_class=StreamingResponse,
    summary="Server-sent events of every type (filterable), resumable",
)
def events(
    bus: EventsDep,
    event_type: Annotated[list[str] | None, Query(alias="type")] = None,
    subject: str | None = None,
    after: Annotated[
        int | None, Query(ge=0, le=MAX_POSITION, description="Start after this event id.")
    ] = None,
    last_event_id: Annotated[
        int | None, Header(alias="Last-Event-ID", ge=0, le=MAX_POSITION)
    ] = None,
) -> StreamingResponse:
    """Without ``Last-Event-ID`` or ``after``, the stream starts with events from now on."""
    start = last_event_id if last_event_id is not None else after
    if start is None:
        start = bus.last_id()
    stream = stream_events(bus, after=start, types=event_type or (), subject=subject)
    return StreamingResponse(
        stream,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.get("/api/analytics", summary="Durations, success rates and throughput per job kind")
def analytics(consumer: AnalyticsDep) -> dict[str, Any]:
    return consumer.snapshot()
