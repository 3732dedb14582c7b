"""Domain events: outbox, subscribers, SSE feeds, analytics consumer.

Filled by the jobs issue (#4); empty until then."""
