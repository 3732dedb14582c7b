"""The page's own event-stream reader (fetch-based, so it can send the API key), in Chromium."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tests.conftest import LiveServer
from tests.web.conftest import needs_browser

if TYPE_CHECKING:
    from playwright.sync_api import Page, Route

pytestmark = needs_browser

PARSE = """async (chunks) => {
  const { SseParser } = await import("/static/js/sse.js");
  const events = [];
  const retries = [];
  const parser = new SseParser({
    onEvent: (event) => events.push(event),
    onRetry: (ms) => retries.push(ms),
  });
  for (const chunk of chunks) parser.push(chunk);
  return { events, retries };
}"""


def test_parser_follows_the_event_stream_format(
    live_server: LiveServer, new_page: Callable[..., Page]
) -> None:
    page = new_page()
    page.goto(live_server.url)
    chunks = [
        "id: 1\r",  # CRLF split across chunks
        '\nevent: JOB_QUEUED\r\ndata: {"a":',
        "1}\r\n\r\n",
        ": keep-alive\n\n",  # a comment dispatches nothing
        "data: line one\ndata:line two\n\n",  # several data lines join with \n
        "retry: 2500\nid: 7\ndata\n\n",  # a field with no colon has an empty value
        "event: ignored\n\n",  # no data: nothing is dispatched, the type resets
        "data: cr only\r\r",
        "data: unfinished",  # no blank line yet: not dispatched
    ]
    result: dict[str, Any] = page.evaluate(PARSE, chunks)
    assert result["events"] == [
        {"type": "JOB_QUEUED", "data": '{"a":1}', "lastEventId": "1"},
        {"type": "message", "data": "line one\nline two", "lastEventId": "1"},
        {"type": "message", "data": "", "lastEventId": "7"},
        {"type": "message", "data": "cr only", "lastEventId": "7"},
    ]
    assert result["retries"] == [2500]


RECONNECT = """async () => {
  const { EventStreamClient } = await import("/static/js/sse.js");
  return new Promise((resolve) => {
    const states = [];
    const events = [];
    const client = new EventStreamClient("/api/test-stream", {
      headers: () => ({ Authorization: "Bearer imj_test" }),
      onEvent: (event) => events.push(event.data),
      onState: ({ state, status }) => {
        states.push(state);
        if (state === "refused") resolve({ states, events, status });
      },
    });
    client.start();
  });
}"""


def test_client_sends_the_key_and_resumes_after_the_last_event_id(
    live_server: LiveServer, new_page: Callable[..., Page]
) -> None:
    page = new_page()
    seen: list[dict[str, str]] = []

    def stream(route: Route) -> None:
        seen.append(route.request.headers)
        if len(seen) < 3:
            event_id = 40 + len(seen)
            body = f"retry: 20\nid: {event_id}\ndata: event {event_id}\n\n"
            route.fulfill(status=200, body=body, headers={"Content-Type": "text/event-stream"})
        else:  # a refused key: the client stops instead of retrying forever
            route.fulfill(status=401, body="{}", headers={"Content-Type": "application/json"})

    page.route("**/api/test-stream", stream)
    page.goto(live_server.url)
    result: dict[str, Any] = page.evaluate(RECONNECT)
    assert result["events"] == ["event 41", "event 42"]
    assert [headers.get("last-event-id") for headers in seen] == [None, "41", "42"]
    assert all(headers["authorization"] == "Bearer imj_test" for headers in seen)
    assert result["states"] == [
        "connecting",
        "open",
        "retrying",
        "connecting",
        "open",
        "retrying",
        "connecting",
        "refused",
    ]
    assert result["status"] == 401
