"""Typed HTTP clients for imajin: :class:`ImajinClient` (sync), :class:`AsyncImajinClient`.

Both take the server's URL and an optional API key and return the same pydantic
models the server validates (:class:`~imajin.assistant.GenerationConfig`, ...)::

    with ImajinClient("http://127.0.0.1:8000", api_key=key) as imajin:
        config = imajin.analyze_context("bakery", city="Lyon", instance="seo")

An error answer raises :class:`ImajinAPIError` with the server's code, message and
field. Endpoints are described once in :mod:`imajin.client.calls`; later issues add
theirs there and one method to each client.
"""

from imajin.assistant.pipeline_catalog import PipelineSpec, PipelineSummary
from imajin.assistant.schemas import GenerationConfig, MaturityRange, ParsedPrompt
from imajin.client.aio import AsyncImajinClient
from imajin.client.calls import Call, Health
from imajin.client.errors import ImajinAPIError, ImajinClientError, ImajinConnectionError
from imajin.client.sync import ImajinClient

__all__ = [
    "AsyncImajinClient",
    "Call",
    "GenerationConfig",
    "Health",
    "ImajinAPIError",
    "ImajinClient",
    "ImajinClientError",
    "ImajinConnectionError",
    "MaturityRange",
    "ParsedPrompt",
    "PipelineSpec",
    "PipelineSummary",
]
