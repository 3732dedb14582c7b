"""The blocking client: :class:`ImajinClient`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any, TypeVar

import httpx

from imajin.assistant.instance import InstanceConfig
from imajin.assistant.pipeline_catalog import PipelineSpec, PipelineSummary
from imajin.assistant.schemas import GenerationConfig, MaturityRange, ParsedPrompt
from imajin.client import calls
from imajin.client.calls import Call, Health
from imajin.client.errors import ImajinConnectionError
from imajin.client.options import ClientOptions

__all__ = ["ImajinClient"]

T = TypeVar("T")


class ImajinClient:
    """A typed client for an imajin server; use it as a context manager, or call :meth:`close`.

    Args:
        base_url: The server, ``http://127.0.0.1:8000``.
        api_key: Sent as ``Authorization: Bearer <key>`` when the server requires keys.
        timeout: Seconds per request; analyze-context on a CPU model can take minutes.
        transport: An httpx transport in place of the network (``httpx.MockTransport``).
    """

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        timeout: float = 300.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        options = ClientOptions(base_url=base_url, api_key=api_key, timeout=timeout)
        self._http = httpx.Client(**options.httpx_arguments(), transport=transport)

    def __enter__(self) -> ImajinClient:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def send(self, call: Call[T]) -> T:
        """Send one :class:`~imajin.client.calls.Call` and parse its answer.

        Raises:
            ImajinAPIError: The server answered with an error.
            ImajinConnectionError: The server could not be reached in time.
        """
        try:
            response = self._http.request(call.method, call.path, json=call.json)
        except httpx.TransportError as error:
            raise ImajinConnectionError(f"{call.method} {call.path} failed: {error}") from error
        return call.result(response)

    def health(self) -> Health:
        """``GET /health``."""
        return self.send(calls.health())

    def list_pipelines(self) -> list[PipelineSummary]:
        """``GET /pipelines``."""
        return self.send(calls.list_pipelines())

    def get_pipeline(self, pipeline_id: str) -> PipelineSpec:
        """``GET /pipelines/{pipeline_id}``."""
        return self.send(calls.get_pipeline(pipeline_id))

    def generate_prompts(
        self,
        pipeline_id: str,
        *,
        inputs: Mapping[str, str | int | float | bool] | None = None,
        count: int = 1,
        seed: int | None = None,
        llm_model_id: str | None = None,
        cache: bool = True,
    ) -> list[ParsedPrompt]:
        """``POST /generate-prompts``: ``count`` prompts from a pipeline."""
        return self.send(
            calls.generate_prompts(
                pipeline_id,
                inputs=inputs,
                count=count,
                seed=seed,
                llm_model_id=llm_model_id,
                cache=cache,
            )
        )

    def analyze_context(
        self,
        category: str,
        *,
        city: str | None = None,
        filters: Sequence[str] = (),
        maturity: MaturityRange | Mapping[str, str] | None = None,
        instance_config: InstanceConfig | Mapping[str, Any] | None = None,
        instance: str | None = None,
        llm_model_id: str | None = None,
        cache: bool = True,
    ) -> GenerationConfig:
        """``POST /analyze-context``: the reasoning chain's GenerationConfig."""
        return self.send(
            calls.analyze_context(
                category,
                city=city,
                filters=filters,
                maturity=maturity,
                instance_config=instance_config,
                instance=instance,
                llm_model_id=llm_model_id,
                cache=cache,
            )
        )
