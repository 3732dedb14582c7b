"""The gateway's job kinds, run on the worker: LLM steps, policy, generate, check, caption.

The classifier runs here, where the image is. A refused image is dropped in this
function: it is never written, returned or logged. Stage timings go into the
job result and into Prometheus.

Queued ``imagegen`` jobs of one shape (:func:`imagegen_shape_key`: model, size, steps,
guidance) run together (:meth:`GatewayRenderer.imagegen_batch`): one batched engine
call, then each job's own output check, regenerate and result. Queued ``chat_image``
jobs of one shape (:func:`chat_shape_key`: model, size) run their LLM stages at once,
each its own, then share the engine call (:meth:`GatewayRenderer.chat_image_batch`).
Each kind batches among its own. Every result records ``batchSize``: the most images
denoised in one call with the job's first image (a regenerate runs alone).
"""

from __future__ import annotations

import base64
import io
import time
from collections.abc import Callable, Hashable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, as_completed, wait
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Histogram

from imajin.contracts.gateway import ChatTurn
from imajin.engine.registry import ModelRegistry
from imajin.engine.request import GenerationRequest, parse_request
from imajin.gateway.errors import OutputBlocked, StageTimeout, StageUnavailable
from imajin.gateway.output_check import ImageScorer
from imajin.gateway.params import ChatImageParams, ImagegenParams, _Params
from imajin.gateway.prompts import PromptSteps
from imajin.jobs.generation import JobGeneration, generate_batch_in_jobs, generate_in_job
from imajin.jobs.handlers import JobContext, Outcome
from imajin.jobs.models import Job
from imajin.llm import LLMError, LLMTimeout
from imajin.safety import apply_endpoint_policy, build_negative_prompt, enforce

if TYPE_CHECKING:
    from PIL import Image

    from imajin.engine.engine import Engine, GeneratedImage, GenerationResult
    from imajin.engine.generate import Progress

# Said once more on the regenerate after a refused image (SPEC §6.1 "stronger coverage").
STRONGER_COVERAGE = ("fully clothed", "covered body", "modest clothing", "no nudity")


CHAT_JOIN_S = 0.5
"""How long a batch of chat jobs waits, after its first job's LLM stages end, for the
others' before it denoises those that are ready (an LLM answer takes a second or more,
so jobs queued together are mostly ready together; the later ones generate alone)."""


@dataclass(frozen=True)
class PolicyApplied:
    prompt: str
    negative_prompt: str | None
    constraints: list[str]
    negative_prompt_used: bool


@dataclass(frozen=True)
class _ChatReady:
    """A chat job past its LLM stages and policy: what the engine and the check need."""

    params: ChatImageParams
    applied: PolicyApplied
    request: GenerationRequest
    timings: dict[str, float]


@contextmanager
def _stage(timings: dict[str, float], name: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    except LLMTimeout as exc:
        raise StageTimeout(f"The {name} stage timed out: {exc}", stage=name) from exc
    except LLMError as exc:
        raise StageUnavailable(f"The {name} stage failed: {exc}", stage=name) from exc
    finally:
        timings[name] = round(time.perf_counter() - started, 4)


def _png_base64(image: Image.Image) -> str:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _to_step(state: Progress) -> tuple[int, int, str, dict[str, Any]]:
    return state.step, state.total, "generate", {}


def shorten_and_expand(
    steps: PromptSteps,
    *,
    message: str,
    history: list[ChatTurn],
    persona: str | None,
    policy: str,
    timings: dict[str, float],
) -> tuple[str | None, str]:
    """The flow's two first LLM stages, timed; the expand sub-step endpoint runs them too."""
    with _stage(timings, "shorten"):
        shortened = steps.shorten(message)
    with _stage(timings, "expand"):
        expansion = steps.expand(
            message=shortened or message, history=history, persona=persona, policy=policy
        )
    return shortened, expansion


class GatewayRenderer:
    """Runs ``chat_image`` and ``imagegen`` jobs. ``engine`` and ``steps`` are providers."""

    def __init__(
        self,
        *,
        engine: Callable[[], Engine],
        models: ModelRegistry,
        steps: Callable[[], PromptSteps],
        scorer: ImageScorer,
        metrics: CollectorRegistry | None = None,
    ) -> None:
        self._engine = engine
        self._models = models
        self._steps = steps
        self._scorer = scorer
        self._stage_seconds = Histogram(
            "imajin_gateway_stage_seconds",
            "Seconds per gateway stage.",
            ["stage"],
            registry=metrics if metrics is not None else CollectorRegistry(),
        )

    def chat_image(self, ctx: JobContext) -> dict[str, Any]:
        ready = self._chat_prepare(ctx)
        return self._chat_finish(ctx, ready, self._generate(ctx, ready.request, ready.timings))

    def chat_image_batch(self, contexts: Sequence[JobContext]) -> list[Outcome]:
        """Run ``chat_image`` jobs of one shape together: each job's LLM stages at once (one
        thread per job: they wait on the LLM server), one batched engine call for the jobs
        ready within :data:`CHAT_JOIN_S` of the first, then each job's own check and
        caption. A job still in its LLM stages by then generates alone when it is ready,
        so a slow LLM answer delays only its own job. Errors are each job's own outcome.
        """
        outcomes: dict[int, Outcome] = {}
        ready: dict[int, _ChatReady] = {}

        def collect(index: int, future: Future[_ChatReady]) -> None:
            try:
                ready[index] = future.result()
            except Exception as error:
                outcomes[index] = error

        with ThreadPoolExecutor(len(contexts), thread_name_prefix="imajin-chat-llm") as pool:
            futures = {pool.submit(self._chat_prepare, ctx): i for i, ctx in enumerate(contexts)}
            wait(futures, return_when=FIRST_COMPLETED)
            joined, late = wait(futures, timeout=CHAT_JOIN_S)
            for future in joined:
                collect(futures[future], future)
            batch = sorted(ready)
            started = time.perf_counter()
            generations = [
                JobGeneration(ctx=contexts[i], request=ready[i].request, to_job_step=_to_step)
                for i in batch
            ]
            results = generate_batch_in_jobs(self._engine(), generations) if generations else []
            generate_s = round(time.perf_counter() - started, 4)
            for index, result in zip(batch, results, strict=True):
                ready[index].timings["generate"] = generate_s
                outcomes[index] = self._chat_outcome(contexts[index], ready[index], result)
            for future in as_completed(late):
                index = futures[future]
                collect(index, future)
                if index in ready:  # a straggler: generated alone
                    outcomes[index] = self._chat_outcome(contexts[index], ready[index], None)
        return [outcomes[index] for index in range(len(contexts))]

    def chat_limit(self, job: Job) -> int:
        """Jobs that may run with ``job``: its model's ``engine.max_batch``."""
        return self._max_batch(ChatImageParams.model_validate(job.params).model)

    def _chat_prepare(self, ctx: JobContext) -> _ChatReady:
        """The LLM stages and the policy: everything before the engine."""
        params = ChatImageParams.model_validate(ctx.job.params)
        timings: dict[str, float] = {}
        _shortened, expansion = shorten_and_expand(
            self._steps(),
            message=params.message,
            history=params.history,
            persona=params.persona,
            policy=params.policy,
            timings=timings,
        )
        applied = self.apply_policy(expansion, params=params, field="expansion")
        request = parse_request(self._request_fields(params, applied))
        return _ChatReady(params, applied, request, timings)

    def _chat_outcome(
        self, ctx: JobContext, ready: _ChatReady, result: GenerationResult | Exception | None
    ) -> Outcome:
        """One batched job's outcome; ``result`` None: generate it alone first."""
        if isinstance(result, Exception):
            return result
        try:
            if result is None:
                result = self._generate(ctx, ready.request, ready.timings)
            return self._chat_finish(ctx, ready, result)
        except Exception as error:
            return error

    def _chat_finish(
        self, ctx: JobContext, ready: _ChatReady, result: GenerationResult
    ) -> dict[str, Any]:
        """Output check (regenerate once, then refuse), caption."""
        answer = self._check(ctx, ready.params, ready.applied, ready.request, result, ready.timings)
        with _stage(ready.timings, "caption"):
            caption = self._steps().caption(ready.applied.prompt)
        enforce(caption, field="caption")
        return self.finish({**answer, "caption": caption}, ready.timings)

    def imagegen(self, ctx: JobContext) -> dict[str, Any]:
        params = ImagegenParams.model_validate(ctx.job.params)
        timings: dict[str, float] = {}
        applied = self.apply_policy(params.prompt, params=params, field="prompt")
        result = self.generate_checked(ctx, params, applied, timings)
        return self.finish(result, timings)

    def imagegen_batch(self, contexts: Sequence[JobContext]) -> list[Outcome]:
        """Run ``imagegen`` jobs of one shape together: one batched engine call, then each
        job's own output check (a refused image regenerates alone, or fails alone) and
        result. One job's bad params, block, engine error or cancel is its own outcome.

        Each job's ``generate`` timing is the shared call's wall time.
        """
        outcomes: dict[int, Outcome] = {}
        prepared: list[tuple[int, ImagegenParams, PolicyApplied, GenerationRequest]] = []
        for index, ctx in enumerate(contexts):
            try:
                params = ImagegenParams.model_validate(ctx.job.params)
                applied = self.apply_policy(params.prompt, params=params, field="prompt")
                request = parse_request(self._request_fields(params, applied))
            except Exception as error:
                outcomes[index] = error
                continue
            prepared.append((index, params, applied, request))
        started = time.perf_counter()
        generations = [
            JobGeneration(ctx=contexts[index], request=request, to_job_step=_to_step)
            for index, _params, _applied, request in prepared
        ]
        results = generate_batch_in_jobs(self._engine(), generations) if generations else []
        generate_s = round(time.perf_counter() - started, 4)
        for (index, params, applied, request), result in zip(prepared, results, strict=True):
            if isinstance(result, Exception):
                outcomes[index] = result
                continue
            timings = {"generate": generate_s}
            try:
                answer = self._check(contexts[index], params, applied, request, result, timings)
                outcomes[index] = self.finish(answer, timings)
            except Exception as error:
                outcomes[index] = error
        return [outcomes[index] for index in range(len(contexts))]

    def imagegen_limit(self, job: Job) -> int:
        """Jobs that may run with ``job``: its model's ``engine.max_batch``."""
        return self._max_batch(ImagegenParams.model_validate(job.params).model)

    def _max_batch(self, model: str) -> int:
        engine = self._engine()
        return engine.max_batch_for(engine.registry.resolve(model, allow_paths=True))

    def apply_policy(self, text: str, *, params: _Params, field: str) -> PolicyApplied:
        """Hard block (raises), then the policy's constraints: in the negative prompt,
        or in the positive prompt for a model that ignores negatives (guidance ≤ 1)."""
        outcome = apply_endpoint_policy(text, params.policy, field=field)
        spec = self._models.resolve(params.model, allow_paths=True)
        given = params.negative_prompt if isinstance(params, ImagegenParams) else None
        ignores_negative = spec.guidance <= 1.0 and not (
            isinstance(params, ImagegenParams) and (params.guidance or 0) > 1
        )
        if ignores_negative:
            constraints = list(outcome.constraints)
            prompt = ", ".join([text, *constraints]) if constraints else text
            return PolicyApplied(prompt, None, constraints, negative_prompt_used=False)
        negative = build_negative_prompt(spec.style, outcome.negative_mode, override=given)
        constraints = list(outcome.constraints) if outcome.soft_blocked else []
        return PolicyApplied(outcome.prompt, negative, constraints, negative_prompt_used=True)

    def generate_checked(
        self,
        ctx: JobContext,
        params: _Params,
        applied: PolicyApplied,
        timings: dict[str, float],
        *,
        accepted: Callable[[GeneratedImage], None] | None = None,
    ) -> dict[str, Any]:
        """Generate, output-check (regenerate once, then refuse) and encode the image.

        ``accepted`` gets the image that passed, before it is encoded (to store it).
        """
        request = parse_request(self._request_fields(params, applied))
        result = self._generate(ctx, request, timings)
        return self._check(ctx, params, applied, request, result, timings, accepted=accepted)

    def _check(  # noqa: PLR0917 - one job's generation, passed on whole
        self,
        ctx: JobContext,
        params: _Params,
        applied: PolicyApplied,
        request: GenerationRequest,
        result: GenerationResult,
        timings: dict[str, float],
        *,
        accepted: Callable[[GeneratedImage], None] | None = None,
    ) -> dict[str, Any]:
        """Output-check ``result``'s image (regenerating once, alone, when refused), encode it."""
        batch_size = result.batch_size
        generated = result.images[0]
        image, seed = generated.image, generated.parameters.seed
        check = None
        if params.threshold is not None:
            score = self._score(image, timings)
            if score > params.threshold:
                del image, generated  # refused: never returned, written or logged
                stronger = _with_terms(applied.prompt, STRONGER_COVERAGE)
                retry = request.model_copy(update={"prompt": stronger, "seed": (seed + 1) % 2**32})
                generated = self._generate(ctx, retry, timings, stage="regenerate").images[0]
                image, seed = generated.image, generated.parameters.seed
                score = self._score(image, timings, stage="check_retry")
                if score > params.threshold:
                    del image, generated
                    raise OutputBlocked(
                        f"The output check refused the image twice (score {score:.3f} > "
                        f"threshold {params.threshold}); no image was kept."
                    )
                applied = PolicyApplied(
                    stronger,
                    applied.negative_prompt,
                    [*applied.constraints, *STRONGER_COVERAGE],
                    applied.negative_prompt_used,
                )
            check = {
                "model": self._scorer.name,
                "score": round(score, 4),
                "threshold": params.threshold,
                "passed": True,
            }
        if accepted is not None:
            accepted(generated)
        return {
            "image_base64": _png_base64(image),
            "prompt_used": applied.prompt,
            "seed": seed,
            "model": params.model,
            "batchSize": batch_size,
            "policy": {
                "endpoint_policy": params.policy,
                "constraints_applied": applied.constraints,
                "negative_prompt_used": applied.negative_prompt_used,
                "output_check": check,
            },
        }

    def _request_fields(self, params: _Params, applied: PolicyApplied) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "prompt": applied.prompt,
            "negative_prompt": applied.negative_prompt,
            "model": params.model,
            "width": params.width,
            "height": params.height,
            "seed": params.seed,
        }
        if isinstance(params, ImagegenParams):
            fields["steps"] = params.steps
            fields["guidance"] = _engine_guidance(params)
        return fields

    def _generate(
        self,
        ctx: JobContext,
        request: GenerationRequest,
        timings: dict[str, float],
        *,
        stage: str = "generate",
    ) -> GenerationResult:
        with _stage(timings, stage):
            return generate_in_job(ctx, self._engine(), request, to_job_step=_to_step)

    def _score(
        self, image: Image.Image, timings: dict[str, float], *, stage: str = "check"
    ) -> float:
        with _stage(timings, stage):
            return self._scorer.score(image)

    def finish(self, result: dict[str, Any], timings: dict[str, float]) -> dict[str, Any]:
        """The job's result with its stage timings, each also observed in Prometheus."""
        for stage, seconds in timings.items():
            self._stage_seconds.labels(stage=stage).observe(seconds)
        return {**result, "timings": timings}


def _with_terms(prompt: str, terms: tuple[str, ...]) -> str:
    """``prompt`` plus the terms it does not contain yet (prompt length is bounded)."""
    missing = [term for term in terms if term.lower() not in prompt.lower()]
    return ", ".join([prompt, *missing])


def imagegen_shape_key(job: Job) -> Hashable:
    """What an ``imagegen`` job's batch shares: model, size, steps and guidance.

    Taken from the stored params as the engine request gets them (guidance below 1 is
    "the model's default"). Prompts, negative prompts and seeds stay per image; two jobs
    whose policies differ in giving a negative prompt are split by the engine into two
    calls (that only costs throughput).
    """
    params = ImagegenParams.model_validate(job.params)
    return (params.model, params.width, params.height, params.steps, _engine_guidance(params))


def _engine_guidance(params: ImagegenParams) -> float | None:
    # The engine's CFG floor is 1; below it means "no guidance" (the model's default).
    return params.guidance if (params.guidance or 0) >= 1 else None


def chat_shape_key(job: Job) -> Hashable:
    """What a ``chat_image`` job's batch shares: model and size (steps and guidance are
    the model's own). Prompts are the LLM's, per job; seeds stay per job."""
    params = ChatImageParams.model_validate(job.params)
    return (params.model, params.width, params.height)
