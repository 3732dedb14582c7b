"""Publishes every outbox event to Redis pub/sub, for consumers on other nodes."""

from __future__ import annotations

import json
import logging

from imajin.events.models import Event

logger = logging.getLogger(__name__)

CHANNEL = "imajin.events"


class RedisPublisher:
    """An event-bus subscriber: ``PUBLISH imajin.events <event json>`` per event."""

    def __init__(self, url: str, *, channel: str = CHANNEL) -> None:
        try:
            import redis  # noqa: PLC0415  # optional: only when events.redis_url is set
        except ImportError as exc:  # pragma: no cover - depends on installed extras
            raise ImportError(
                "Publishing events to Redis needs: pip install 'imajin[celery]'"
            ) from exc
        self._client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self.channel = channel

    def __call__(self, event: Event) -> None:
        message = json.dumps(event.model_dump(mode="json", by_alias=True))
        try:
            self._client.publish(self.channel, message)
        except Exception as exc:  # the outbox keeps the event; remote consumers can replay
            logger.warning("could not publish event %s to Redis: %s", event.id, exc)

    def close(self) -> None:
        self._client.close()
