"""Typed HTTP clients for imajin: :class:`ImajinClient` (sync), :class:`AsyncImajinClient`.

Both take the server's URL and an optional API key, have a method per endpoint
(variations, studio, jobs, the assistant, the gateway) and return the models the
server itself validates and answers with (:mod:`imajin.contracts`)::

    with ImajinClient("http://127.0.0.1:8000", api_key=key) as imajin:
        config = imajin.analyze_context("bakery", city="Lyon", instance="seo")

An error answer raises :class:`ImajinAPIError` with the server's code, message and
field. Endpoints are described once, as :class:`Call` builders in
:mod:`imajin.client.calls` (by area in its ``calls_*`` siblings), and bound to both clients
in :mod:`imajin.client.endpoints`. Importing this package loads no server code
(no FastAPI, SQLAlchemy or torch): only httpx, pydantic and the contracts.
"""

from imajin.client.aio import AsyncImajinClient
from imajin.client.call import Call, Stream
from imajin.client.calls import Health
from imajin.client.errors import ImajinAPIError, ImajinClientError, ImajinConnectionError
from imajin.client.sync import ImajinClient
from imajin.contracts.assistant import (
    GenerationConfig,
    InstanceConfig,
    MaturityRange,
    ParsedPrompt,
    PipelineSpec,
    PipelineSummary,
)
from imajin.contracts.events import EventPublic
from imajin.contracts.gateway import Accepted, ChatImageRequest, ChatImageResponse
from imajin.contracts.jobs import JobPublic, JobStatus
from imajin.contracts.studio import BatchCreated, BatchDetail, GenerateRequest
from imajin.contracts.variations import GenerationInput, VariationCreate, VariationPublic

__all__ = [
    "Accepted",
    "AsyncImajinClient",
    "BatchCreated",
    "BatchDetail",
    "Call",
    "ChatImageRequest",
    "ChatImageResponse",
    "EventPublic",
    "GenerateRequest",
    "GenerationConfig",
    "GenerationInput",
    "Health",
    "ImajinAPIError",
    "ImajinClient",
    "ImajinClientError",
    "ImajinConnectionError",
    "InstanceConfig",
    "JobPublic",
    "JobStatus",
    "MaturityRange",
    "ParsedPrompt",
    "PipelineSpec",
    "PipelineSummary",
    "Stream",
    "VariationCreate",
    "VariationPublic",
]
