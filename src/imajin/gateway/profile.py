"""The ``profile`` job kind, run on the worker: detect → features → generate (SPEC §6.2).

The selfie is decoded here, in the worker, within the decode time limit; its bytes
are dropped as soon as the pixels exist. Each stage is timed into the job result
and into Prometheus (``imajin_gateway_stage_seconds``). Nothing here logs a
feature, a prompt built from them, or an image.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy.orm import Session

from imajin.config.gateway import ProfileSettings
from imajin.gateway.avatar import AvatarTemplate, Features
from imajin.gateway.handler import GatewayRenderer, PolicyApplied
from imajin.gateway.params import ProfileParams
from imajin.gateway.selfies import SelfieHandoff
from imajin.jobs.handlers import JobContext
from imajin.jobs.models import Job
from imajin.storage.base import FileStorage
from imajin.studio.outputs import stamp, write_output
from imajin.vision.base import FaceDetector, RGBImage
from imajin.vision.errors import FEATURES_STAGE, FeaturesInvalid, FeaturesUnavailable
from imajin.vision.features import NO_VISION_MODEL_MESSAGE
from imajin.vision.images import decode_selfie
from imajin.vision.quality import FaceAssessment, assess_faces

if TYPE_CHECKING:
    from imajin.engine.engine import GeneratedImage

AVATARS_DIR = "profiles"
PRIVATE_RESULT_KEYS = ("features", "prompt_used")
"""Result keys made of the selfie's features: kept only with ``store_feature_text``."""
PRIVATE_PARAMS = ("features",)
"""``/generate``'s features, in its job's params: dropped when the job ends, without it."""

ForgetParams = Callable[[Session, str, Sequence[str]], None]
"""(session ending the job, its id, keys) → drop those keys of its params
(``JobRepository.forget_params``)."""


class FeatureSource(Protocol):
    """What the profile flow asks of feature extraction (``imajin.vision.features``)."""

    def extract(
        self, *, face: RGBImage, image: RGBImage, timeout_s: float | None = None
    ) -> Features:
        """The features of the person in ``face`` (a crop of ``image``).

        Raises:
            FeaturesUnavailable: The vision model cannot be reached (503).
            FeaturesInvalid: Its answers broke the schema after retries (502).
        """
        ...


def face_view(assessment: FaceAssessment) -> dict[str, Any]:
    """The ``face`` object of the answers (SPEC §6.2)."""
    face = assessment.face
    box = None
    if face is not None:
        box = {"x": face.x, "y": face.y, "width": face.width, "height": face.height}
    return {
        "detected": face is not None,
        "box": box,
        "quality_score": assessment.quality_score,
        "faces_found": assessment.faces_found,
    }


def _in_stage(message: str) -> str:
    """The error message naming the stage that failed (the job's error goes back to HTTP)."""
    stage = f"The {FEATURES_STAGE} stage"
    return message if message.startswith(stage) else f"{stage} failed: {message}"


@contextmanager
def _timed(timings: dict[str, float], name: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        timings[name] = round(time.perf_counter() - started, 4)


class ProfileRenderer:
    """Runs ``profile`` jobs; ``detector`` and ``features`` are providers (built on first use).

    ``features_timeout_s`` bounds each answer of the vision model (then 504 naming the
    features stage): ``vision.features_timeout_s``, or else the profile endpoint's
    ``timeout_s``, since an answer slower than a whole request's wait is a stalled model.
    """

    def __init__(
        self,
        *,
        gateway: GatewayRenderer,
        detector: Callable[[], FaceDetector],
        features: Callable[[], FeatureSource | None],
        selfies: SelfieHandoff,
        outputs: FileStorage,
        settings: ProfileSettings,
        template: AvatarTemplate,
        features_timeout_s: float,
        forget_params: ForgetParams,
    ) -> None:
        self._gateway = gateway
        self._detector = detector
        self._features = features
        self._selfies = selfies
        self._outputs = outputs
        self._settings = settings
        self.template = template
        self.features_timeout_s = features_timeout_s
        self._forget_params = forget_params

    def __call__(self, ctx: JobContext) -> dict[str, Any]:
        params = ProfileParams.model_validate(ctx.job.params)
        if not self._settings.store_feature_text:
            # The answer carries them once; the job's row forgets them (SPEC §6.2 privacy).
            ctx.deliver_once(*PRIVATE_RESULT_KEYS, ttl_s=self._settings.unread_features_ttl_s)
            job_id = ctx.job.id
            ctx.on_success(lambda session: self._forget_params(session, job_id, PRIVATE_PARAMS))
        timings: dict[str, float] = {}
        result: dict[str, Any] = {"selfie_id": params.selfie_id if params.keep_selfie else None}
        features = params.features
        if params.action != "generate":
            features = self._analyze(ctx, params, timings, result)
            if features is None or params.action == "analyze":
                return self._gateway.finish(result, timings)
        if features is None:  # pragma: no cover - the service always sends them
            raise FeaturesUnavailable(NO_VISION_MODEL_MESSAGE)
        avatar = self._avatar(ctx, params, features, timings)
        return self._gateway.finish({**result, **avatar}, timings)

    def settle(self, session: Session, job: Job) -> None:
        """A profile job that failed or was cancelled leaves no selfie in memory, nor (with
        ``store_feature_text`` off) the features ``/generate`` was given in its row."""
        params = ProfileParams.model_validate(job.params)
        if params.selfie_id is not None:
            self._selfies.discard(params.selfie_id)
        if not self._settings.store_feature_text:
            self._forget_params(session, job.id, PRIVATE_PARAMS)

    # -- stages ------------------------------------------------------------------------------

    def _analyze(
        self,
        ctx: JobContext,
        params: ProfileParams,
        timings: dict[str, float],
        result: dict[str, Any],
    ) -> Features | None:
        """Stages ``detect`` and ``features``; fills ``face``, ``features`` (and ``message``)."""
        if params.selfie_id is None:  # pragma: no cover - the service always sends one
            raise FeaturesUnavailable("The profile job has no selfie.")
        # Under Celery the selfie came in the job's message; locally it waits in memory here.
        data = ctx.take_payload()
        if data is None:
            data = self._selfies.take(params.selfie_id)
        with _timed(timings, "detect"):
            limits = self._settings
            image = decode_selfie(
                data,
                max_bytes=limits.max_bytes,
                max_pixels=limits.max_pixels,
                timeout_s=limits.decode_timeout_s,
            )
            del data  # only pixels from here on: no EXIF, no file
            assessment = assess_faces(self._detector(), image)
        result["face"] = face_view(assessment)
        source = self._features()
        if source is None:
            if params.action == "create":
                raise FeaturesUnavailable(NO_VISION_MODEL_MESSAGE)
            result.update(features=None, message=NO_VISION_MODEL_MESSAGE)
            return None
        face = assessment.face
        crop = image
        if face is not None:
            crop = image[face.y : face.y + face.height, face.x : face.x + face.width]
        with _timed(timings, "features"):
            try:
                features = source.extract(face=crop, image=image, timeout_s=self.features_timeout_s)
            except (FeaturesInvalid, FeaturesUnavailable) as exc:
                raise type(exc)(_in_stage(exc.message)) from exc
        self.template.refuse_minor(features)
        result.update(features=features, message=None)
        return features

    def _avatar(
        self,
        ctx: JobContext,
        params: ProfileParams,
        features: Features,
        timings: dict[str, float],
    ) -> dict[str, Any]:
        """Stage ``generate``: the guarded prompt, the engine, the output check, the store."""
        character = self.template.character(features, style=params.style, seed=params.seed)
        applied = self._gateway.apply_policy(character.prompt, params=params, field="features")
        if applied.negative_prompt is not None and character.negative_terms:
            negative = ", ".join([applied.negative_prompt, *character.negative_terms])
            applied = replace(applied, negative_prompt=negative)
        stored: dict[str, Any] = {}

        def keep(generated: GeneratedImage) -> None:
            stored.update(self._store(ctx, params, features, applied, generated))

        answer = self._gateway.generate_checked(ctx, params, applied, timings, accepted=keep)
        return {
            "image_base64": answer["image_base64"],
            "prompt_used": answer["prompt_used"],
            "seed": answer["seed"],
            "model": answer["model"],
            "policy": answer["policy"],
            "avatar": stored,
        }

    def _store(
        self,
        ctx: JobContext,
        params: ProfileParams,
        features: Features,
        applied: PolicyApplied,
        generated: GeneratedImage,
    ) -> dict[str, str]:
        """The avatar as any generated image: PNG with its parameters, sidecar, thumbnail."""
        profile: dict[str, Any] = {"job_id": ctx.job.id, "style": params.style}
        if self._settings.store_feature_text:
            profile["features"] = features
        else:
            # The prompt is written from the features: it goes too.
            generated = replace(
                generated, parameters=generated.parameters.model_copy(update={"prompt": ""})
            )
        seed = generated.parameters.seed
        name = f"{AVATARS_DIR}/{stamp(datetime.now(UTC))}_{ctx.job.id[:12]}_{seed}.png"
        written = write_output(
            self._outputs,
            name,
            image=generated.image,
            parameters=generated.parameters,
            studio={"profile": profile, "constraints": applied.constraints},
        )
        return written.as_result()
