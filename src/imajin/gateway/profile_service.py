"""The profile endpoints' behaviour (SPEC §6.2): check the upload, hand it off, queue the job.

What can be refused without decoding is refused here, before anything is queued:
bytes over the limit, a format that is not JPEG/PNG/WebP by its content, a header
declaring too many pixels, features given to ``/generate`` that the feature schema
does not allow (or that say minor, or are hard-blocked), ``/create`` with no vision
model. Decoding, the vision model and the engine run in the ``profile`` job on the worker.
"""

from __future__ import annotations

from collections.abc import Callable

from imajin.config.gateway import EndpointName, ProfileSettings
from imajin.contracts.profile import (
    AvatarStyle,
    ProfileAnalyzeResponse,
    ProfileCreateResponse,
    ProfileGenerateRequest,
    ProfileGenerateResponse,
)
from imajin.errors import NotFound
from imajin.gateway.avatar import AvatarTemplate, Features
from imajin.gateway.params import PROFILE_JOB, ProfileAction, ProfileParams
from imajin.gateway.selfies import SelfieHandoff, SelfieStore
from imajin.gateway.service import GatewayService, Pending, R
from imajin.vision.errors import FeaturesUnavailable
from imajin.vision.features import NO_VISION_MODEL_MESSAGE
from imajin.vision.images import check_size

ENDPOINT: EndpointName = "profile"


class ProfileService:
    """``/v1/profile/*``; waits on its jobs through the gateway service (202 past the timeout)."""

    def __init__(
        self,
        *,
        gateway: GatewayService,
        settings: ProfileSettings,
        selfies: SelfieHandoff,
        template: AvatarTemplate,
        has_features: Callable[[], bool],
    ) -> None:
        self.gateway = gateway
        self.settings = settings
        self._selfies = selfies
        self._template = template
        self._has_features = has_features

    def submit_analyze(self, selfie: bytes) -> Pending[ProfileAnalyzeResponse]:
        """Face and features of a selfie (``features: null`` with no vision model)."""
        return self._submit_selfie("analyze", selfie, None, ProfileAnalyzeResponse)

    def submit_create(
        self, selfie: bytes, *, style: AvatarStyle | None = None
    ) -> Pending[ProfileCreateResponse]:
        """Selfie → face → features → avatar; 503 at once when no vision model is set."""
        if not self._has_features():
            raise FeaturesUnavailable(NO_VISION_MODEL_MESSAGE)
        return self._submit_selfie("create", selfie, style, ProfileCreateResponse)

    def submit_generate(self, body: ProfileGenerateRequest) -> Pending[ProfileGenerateResponse]:
        """An avatar from given features; needs no vision model."""
        # Refused here, nothing queued: a feature or value the schema lacks, a minor, a
        # hard-blocked or minor-naming feature.
        features: Features = self._template.check(body.features)
        self._template.character(features, style=body.style, seed=body.seed)
        params = self._params("generate", style=body.style, seed=body.seed, features=features)
        return self._submit(params, ProfileGenerateResponse)

    def delete_selfie(self, selfie_id: str) -> None:
        """Remove a kept selfie now (``gateway.profile.keep_selfies``).

        Raises:
            NotFound: Selfies are not kept, or none has this id.
        """
        if not isinstance(self._selfies, SelfieStore):
            raise NotFound(
                "Selfies are not kept (gateway.profile.keep_selfies is off): there is "
                "nothing to delete.",
                field="selfie_id",
            )
        self._selfies.delete(selfie_id)

    # -- helpers -----------------------------------------------------------------------------

    def _submit_selfie(
        self, action: ProfileAction, selfie: bytes, style: AvatarStyle | None, answer: type[R]
    ) -> Pending[R]:
        limits = self.settings
        check_size(selfie, max_bytes=limits.max_bytes, max_pixels=limits.max_pixels)
        selfie_id = self._selfies.put(selfie)
        params = self._params(
            action, style=style, selfie_id=selfie_id, keep_selfie=self._selfies.keeps
        )
        try:
            return self._submit(params, answer)
        except BaseException:
            self._selfies.discard(selfie_id)  # never queued: nothing will take it
            raise

    def _params(self, action: ProfileAction, **fields: object) -> ProfileParams:
        gateway = self.gateway
        return ProfileParams.model_validate(
            {
                "endpoint": ENDPOINT,
                "policy": gateway._settings.endpoint(ENDPOINT).policy,
                "model": gateway._model(None, ENDPOINT),
                "threshold": gateway._threshold(ENDPOINT),
                "action": action,
                **fields,
            }
        )

    def _submit(self, params: ProfileParams, answer: type[R]) -> Pending[R]:
        return self.gateway._submit(PROFILE_JOB, params, ENDPOINT, answer)
