"""The gateway service: checks a request, queues its job on the endpoint's queue, waits.

The synchronous contract sits on the durable job system: the request waits for
its job up to the endpoint's ``timeout_s``, then answers 202 ``{job_id}``; the
job goes on whether or not the client is still there.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from imajin.config.gateway import EndpointName, GatewaySettings
from imajin.contracts.gateway import (
    Accepted,
    CaptionRequest,
    CaptionResponse,
    ChatImageRequest,
    ChatImageResponse,
    ChatKind,
    ExpandRequest,
    ExpandResponse,
    ImagegenRequest,
    ImagegenResponse,
    PolicyReport,
)
from imajin.engine.registry import ModelRegistry
from imajin.errors import (
    ImajinError,
    InvalidInput,
    NotFound,
    Overloaded,
    PayloadTooLarge,
    PolicyViolation,
    UpstreamError,
)
from imajin.gateway.avatar import MinorRefused
from imajin.gateway.errors import OutputBlocked, StageTimeout, StageUnavailable
from imajin.gateway.handler import GatewayRenderer, _stage, shorten_and_expand
from imajin.gateway.params import (
    CHAT_IMAGE_JOB,
    IMAGEGEN_JOB,
    ChatImageParams,
    ImagegenParams,
    _Params,
)
from imajin.gateway.prompts import PromptSteps
from imajin.gateway.selfies import SelfieGone
from imajin.jobs.deliver_once import DELIVER_ONCE_KEY
from imajin.jobs.models import Job, JobSpec, JobStatus
from imajin.jobs.routes import route_for_model
from imajin.jobs.service import JobService
from imajin.safety import enforce
from imajin.vision.errors import FeaturesInvalid, FeaturesTimeout, FeaturesUnavailable
from imajin.vision.images import SelfieInvalid

ENDPOINT_OF_KIND: dict[ChatKind, EndpointName] = {
    "1to1": "chat_1to1",
    "shorts": "shorts",
    "scenes": "scenes",
}


def _policy_violation(message: str, detail: dict[str, Any]) -> ImajinError:
    # A job that failed before jobs kept their error's detail has no specific reason.
    reason = detail.get("reason")
    return PolicyViolation(
        message,
        reason=reason if isinstance(reason, str) else "hard_block",
        field=_field_of(detail),
    )


def _from_message(
    make: Callable[[str], ImajinError],
) -> Callable[[str, dict[str, Any]], ImajinError]:
    """A class built from its message; the field it was raised with comes back too, where
    its class does not fix one."""

    def rebuild(message: str, detail: dict[str, Any]) -> ImajinError:
        error = make(message)
        if error.field is None:
            error.field = _field_of(detail)
        return error

    return rebuild


def _field_of(detail: dict[str, Any]) -> str | None:
    field = detail.get("field")
    return field if isinstance(field, str) else None


# A job's error, by code, back as the class the handler raised (from the code, message and
# detail the job stored): the same status and the same body as before the job.
_ERRORS_BY_CODE: dict[str, Callable[[str, dict[str, Any]], ImajinError]] = {
    "output_blocked": _from_message(OutputBlocked),
    "policy_violation": _policy_violation,
    "llm_timeout": _from_message(StageTimeout),
    "llm_unavailable": _from_message(StageUnavailable),
    "invalid_input": _from_message(InvalidInput),
    # The profile job's (SPEC §6.2): the same class comes back, so the same status.
    "payload_too_large": _from_message(PayloadTooLarge),
    "invalid_selfie": _from_message(SelfieInvalid),
    "minor_refused": _from_message(MinorRefused),
    "features_unavailable": _from_message(FeaturesUnavailable),
    "features_timeout": _from_message(FeaturesTimeout),
    "features_invalid": _from_message(FeaturesInvalid),
    "selfie_gone": _from_message(SelfieGone),
}


class GatewayService:
    """The S5 endpoints' behaviour; the router only translates HTTP."""

    def __init__(
        self,
        *,
        settings: GatewaySettings,
        jobs: JobService,
        models: ModelRegistry,
        steps: Callable[[], PromptSteps],
        renderer: GatewayRenderer,
    ) -> None:
        self._settings = settings
        self._jobs = jobs
        self._models = models
        self._steps = steps
        self._renderer = renderer

    # -- flows -------------------------------------------------------------------------------

    def chat_image(
        self, kind: ChatKind, body: ChatImageRequest, *, allow_paths: bool = False
    ) -> ChatImageResponse | Accepted:
        """One chat image: shorten, expand, generate, check, caption (SPEC §6.1), waited
        for in this thread (the CLI; HTTP waits without holding a thread, see the router).

        ``allow_paths``: whether ``body.model`` may be a local path (the CLI); over
        HTTP only a style or a model id (SPEC §2.1).
        """
        return self.wait(self.submit_chat_image(kind, body, allow_paths=allow_paths))

    def submit_chat_image(
        self, kind: ChatKind, body: ChatImageRequest, *, allow_paths: bool = False
    ) -> Pending[ChatImageResponse]:
        """Check the request and queue its job on the endpoint's bounded queue."""
        endpoint = ENDPOINT_OF_KIND[kind]
        self._check_chat(body)
        config = self._settings.endpoint(endpoint)
        params = ChatImageParams(
            endpoint=endpoint,
            policy=config.policy,
            model=self._model(body.model, endpoint, allow_paths=allow_paths),
            seed=body.seed,
            width=body.width,
            height=body.height,
            threshold=self._threshold(endpoint),
            message=body.message,
            history=body.history,
            persona=body.persona,
        )
        return self._submit(CHAT_IMAGE_JOB, params, endpoint, ChatImageResponse)

    def imagegen(
        self, body: ImagegenRequest, *, allow_paths: bool = False
    ) -> ImagegenResponse | Accepted:
        """One image from a prompt under the imagegen policy; ``allow_paths`` as in chat_image."""
        return self.wait(self.submit_imagegen(body, allow_paths=allow_paths))

    def submit_imagegen(
        self, body: ImagegenRequest, *, allow_paths: bool = False
    ) -> Pending[ImagegenResponse]:
        """Check the request and queue its job on the imagegen queue."""
        endpoint: EndpointName = "imagegen"
        enforce(body.prompt, field="prompt")
        params = ImagegenParams(
            endpoint=endpoint,
            policy=self._settings.endpoint(endpoint).policy,
            model=self._model(body.model, endpoint, allow_paths=allow_paths),
            seed=body.seed,
            width=body.width,
            height=body.height,
            threshold=self._threshold(endpoint),
            prompt=body.prompt,
            negative_prompt=body.negative_prompt,
            steps=body.steps,
            guidance=body.guidance,
        )
        return self._submit(IMAGEGEN_JOB, params, endpoint, ImagegenResponse)

    # -- sub-steps (the same code the flows run) -------------------------------------------

    def expand(self, kind: ChatKind, body: ExpandRequest) -> ExpandResponse:
        endpoint = ENDPOINT_OF_KIND[kind]
        self._check_chat(body)
        config = self._settings.endpoint(endpoint)
        shortened, expansion = shorten_and_expand(
            self._steps(),
            message=body.message,
            history=body.history,
            persona=body.persona,
            policy=config.policy,
            timings={},
        )
        params = ChatImageParams(
            endpoint=endpoint,
            policy=config.policy,
            model=self._model(None, endpoint),
            threshold=None,
            message=body.message,
        )
        applied = self._renderer.apply_policy(expansion, params=params, field="expansion")
        return ExpandResponse(
            prompt=applied.prompt,
            shortened_message=shortened,
            policy=PolicyReport(
                endpoint_policy=config.policy,
                constraints_applied=applied.constraints,
                negative_prompt_used=applied.negative_prompt_used,
                output_check=None,
            ),
        )

    def caption(self, body: CaptionRequest) -> CaptionResponse:
        enforce(body.prompt, field="prompt")
        timings: dict[str, float] = {}
        with _stage(timings, "caption"):
            caption = self._steps().caption(body.prompt)
        enforce(caption, field="caption")
        return CaptionResponse(caption=caption)

    # -- helpers -----------------------------------------------------------------------------

    def _check_chat(self, body: ExpandRequest) -> None:
        """Limits and the hard block on message and history, before any LLM call."""
        if len(body.message) > self._settings.max_message_chars:
            raise InvalidInput(
                f"message is {len(body.message)} characters; at most "
                f"{self._settings.max_message_chars} are accepted.",
                field="message",
            )
        if len(body.history) > self._settings.max_history_turns:
            raise InvalidInput(
                f"history has {len(body.history)} turns; at most "
                f"{self._settings.max_history_turns} are accepted.",
                field="history",
            )
        enforce(body.message, field="message")
        for index, turn in enumerate(body.history):
            enforce(turn.content, field=f"history[{index}].content")
        if body.persona:
            enforce(body.persona, field="persona")

    def _model(
        self, requested: str | None, endpoint: EndpointName, *, allow_paths: bool = True
    ) -> str:
        """The model id to run: the request's (confined unless ``allow_paths``), else the
        configured one (the operator's, so it may be a path)."""
        if requested:
            model, paths = requested, allow_paths
        else:
            model, paths = self._settings.endpoint(endpoint).model or self._settings.model, True
        try:
            return self._models.resolve(model, allow_paths=paths).id
        except NotFound as exc:
            raise InvalidInput(exc.message, field="model") from None

    def _threshold(self, endpoint: EndpointName) -> float | None:
        if not self._settings.endpoint(endpoint).checks_output:
            return None
        return self._settings.output_check.threshold

    # -- waiting: the synchronous contract on the durable job ----------------------------

    def wait(self, pending: Pending[R]) -> R | Accepted:
        """Block this thread until the job ends or the endpoint's timeout passes (202)."""
        try:
            finished = self._jobs.wait(pending.job_id, timeout_s=pending.timeout_s)
        except TimeoutError:
            return Accepted(job_id=pending.job_id)
        return pending.outcome(finished)

    async def wait_async(self, pending: Pending[R]) -> R | Accepted:
        """:meth:`wait` without holding a thread: a request may wait up to ``timeout_s``
        (120 s by default) and the endpoints together admit more waiting requests than the
        server has request threads."""
        try:
            finished = await self._jobs.wait_async(pending.job_id, timeout_s=pending.timeout_s)
        except TimeoutError:
            return Accepted(job_id=pending.job_id)
        return pending.outcome(finished)

    def _submit(
        self, kind: str, params: _Params, endpoint: EndpointName, answer: type[R]
    ) -> Pending[R]:
        spec = JobSpec(
            kind=kind,
            params=params.model_dump(mode="json"),
            queue=self._settings.queue_of(endpoint),
            route=route_for_model(params.model),
        )
        try:
            job = self._jobs.submit(spec)
        except Overloaded as exc:
            cap_s = math.ceil(self._settings.retry_after_cap_ms / 1000)
            raise Overloaded(exc.message, retry_after=min(exc.retry_after, cap_s)) from None
        return Pending(
            job_id=job.id, timeout_s=self._settings.endpoint(endpoint).timeout_s, answer=answer
        )


R = TypeVar("R", bound=BaseModel)


@dataclass(frozen=True)
class Pending(Generic[R]):
    """A queued gateway job and how to read its answer once it has ended."""

    job_id: str
    timeout_s: float
    answer: type[R]

    def outcome(self, job: Job) -> R:
        """The response, or the error the job failed with (raised as its own class)."""
        return self.answer.model_validate({**_result_of(job), "job_id": job.id})


_JOB_ONLY = {"timings", "batchSize", DELIVER_ONCE_KEY}
"""Result keys for the job's record (GET /api/jobs/{id}), not the gateway's response."""


def _result_of(job: Job) -> dict[str, Any]:
    """The job's result, or the error it failed with, as the error class it was."""
    if job.status == JobStatus.SUCCEEDED and job.result is not None:
        return {k: v for k, v in job.result.items() if k not in _JOB_ONLY}
    error = job.error
    if error is None:
        raise UpstreamError(f"job {job.id} ended {job.status} without a result")
    make = _ERRORS_BY_CODE.get(error.code)
    if make is None:
        raise UpstreamError(f"job {job.id} failed: {error.code}: {error.message}")
    raise make(error.message, error.detail or {})
