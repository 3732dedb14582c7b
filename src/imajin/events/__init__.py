"""Domain events: the outbox, the relay to subscribers, SSE feeds, analytics."""

from imajin.events.bus import EventBus
from imajin.events.models import Event, JobEvent
from imajin.events.outbox import EventStore, record_event

__all__ = ["Event", "EventBus", "EventStore", "JobEvent", "record_event"]
