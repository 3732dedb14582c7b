"""Every endpoint, bound once to both clients.

:class:`Endpoints` lists each :mod:`~imajin.client.calls` builder once. Read from an
:class:`~imajin.client.ImajinClient` an entry is a method that sends the call and
returns its answer; from an :class:`~imajin.client.AsyncImajinClient` the same
method returns an awaitable (streams: an iterator, or an async iterator). So the
two clients cannot drift apart, and a new endpoint is one line here.
"""

from __future__ import annotations

import functools
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from typing import Any, Generic, ParamSpec, Self, TypeVar, overload

from imajin.client import calls
from imajin.client.call import Call, Stream
from imajin.contracts.events import EventPublic

__all__ = ["AsyncSender", "Endpoint", "Endpoints", "StreamEndpoint", "SyncSender"]

P = ParamSpec("P")
T = TypeVar("T")


class SyncSender(ABC):
    """A client that sends a call and blocks for its answer."""

    @abstractmethod
    def send(self, call: Call[T]) -> T:
        """Send ``call`` and parse its answer."""

    @abstractmethod
    def stream(self, stream: Stream) -> Iterator[EventPublic]:
        """Open ``stream`` and yield its events."""


class AsyncSender(ABC):
    """A client that sends a call on the running event loop."""

    @abstractmethod
    async def send(self, call: Call[T]) -> T:
        """Send ``call`` and parse its answer."""

    @abstractmethod
    def stream(self, stream: Stream) -> AsyncIterator[EventPublic]:
        """Open ``stream`` and yield its events."""


class Endpoint(Generic[P, T]):
    """A :class:`Call` builder that becomes a method of each client."""

    def __init__(self, build: Callable[P, Call[T]]) -> None:
        self.build = build

    @overload
    def __get__(self, client: None, owner: type[Any]) -> Self: ...
    @overload
    def __get__(self, client: SyncSender, owner: type[Any]) -> Callable[P, T]: ...
    @overload
    def __get__(
        self, client: AsyncSender, owner: type[Any]
    ) -> Callable[P, Coroutine[Any, Any, T]]: ...
    def __get__(self, client: SyncSender | AsyncSender | None, owner: type[Any]) -> Any:
        if client is None:
            return self
        send = client.send
        build = self.build

        @functools.wraps(build)
        def method(*args: P.args, **kwargs: P.kwargs) -> Any:
            return send(build(*args, **kwargs))

        return method


class StreamEndpoint(Generic[P]):
    """A :class:`Stream` builder that becomes a method of each client."""

    def __init__(self, build: Callable[P, Stream]) -> None:
        self.build = build

    @overload
    def __get__(self, client: None, owner: type[Any]) -> Self: ...
    @overload
    def __get__(
        self, client: SyncSender, owner: type[Any]
    ) -> Callable[P, Iterator[EventPublic]]: ...
    @overload
    def __get__(
        self, client: AsyncSender, owner: type[Any]
    ) -> Callable[P, AsyncIterator[EventPublic]]: ...
    def __get__(self, client: SyncSender | AsyncSender | None, owner: type[Any]) -> Any:
        if client is None:
            return self
        open_stream = client.stream
        build = self.build

        @functools.wraps(build)
        def method(*args: P.args, **kwargs: P.kwargs) -> Any:
            return open_stream(build(*args, **kwargs))

        return method


class Endpoints:
    """Every endpoint of the HTTP API (SPEC §3.2, §4.1, §5, §6), as client methods.

    Left out: ``/metrics`` (Prometheus' text), ``/api/analytics`` (a free-form report),
    ``/healthz`` and ``/api/health`` (the same as ``/health``) and the web UI's pages.
    """

    health = Endpoint(calls.health)

    # The prompt assistant (SPEC §4.1).
    list_pipelines = Endpoint(calls.list_pipelines)
    get_pipeline = Endpoint(calls.get_pipeline)
    generate_prompts = Endpoint(calls.generate_prompts)
    analyze_context = Endpoint(calls.analyze_context)

    # Variations (SPEC §3.2).
    create_variation = Endpoint(calls.create_variation)
    get_variation = Endpoint(calls.get_variation)
    get_variation_by_name = Endpoint(calls.get_variation_by_name)
    list_variations = Endpoint(calls.list_variations)
    regenerate_variation = Endpoint(calls.regenerate_variation)
    delete_variation = Endpoint(calls.delete_variation)
    get_derivative = Endpoint(calls.get_derivative)
    list_families = Endpoint(calls.list_families)
    list_models = Endpoint(calls.list_models)
    ml_health = Endpoint(calls.ml_health)
    list_loras = Endpoint(calls.list_loras)
    pull_model = Endpoint(calls.pull_model)

    # LoRA training.
    list_training_folders = Endpoint(calls.list_training_folders)
    training_defaults = Endpoint(calls.training_defaults)
    start_training = Endpoint(calls.start_training)

    # The batch studio (SPEC §5).
    get_config = Endpoint(calls.get_config)
    update_config = Endpoint(calls.update_config)
    generate = Endpoint(calls.generate)
    create_batch = Endpoint(calls.create_batch)
    list_sets = Endpoint(calls.list_sets)
    get_set = Endpoint(calls.get_set)
    list_batches = Endpoint(calls.list_batches)
    get_batch = Endpoint(calls.get_batch)
    get_output = Endpoint(calls.get_output)
    random_theme = Endpoint(calls.random_theme)

    # Jobs and events.
    list_jobs = Endpoint(calls.list_jobs)
    get_job = Endpoint(calls.get_job)
    cancel_job = Endpoint(calls.cancel_job)
    job_events = StreamEndpoint(calls.job_events)
    events = StreamEndpoint(calls.events)

    # The gateway (SPEC §6).
    chat_image = Endpoint(calls.chat_image)
    expand = Endpoint(calls.expand)
    caption = Endpoint(calls.caption)
    imagegen = Endpoint(calls.imagegen)
    profile_analyze = Endpoint(calls.profile_analyze)
    profile_create = Endpoint(calls.profile_create)
    profile_generate = Endpoint(calls.profile_generate)
    delete_selfie = Endpoint(calls.delete_selfie)

    # API keys and identity.
    whoami = Endpoint(calls.whoami)
    list_keys = Endpoint(calls.list_keys)
    create_key = Endpoint(calls.create_key)
    revoke_key = Endpoint(calls.revoke_key)
