"""The client's profile calls (multipart upload included) against the served app."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from imajin.client import AsyncImajinClient, ImajinAPIError
from imajin.contracts.profile import (
    ProfileAnalyzeResponse,
    ProfileCreateResponse,
    ProfileGenerateResponse,
)
from imajin.llm.testing import FakeOpenAIServer
from tests.profile.conftest import (
    ADULT_FEATURES,
    ProfileFactory,
    astronaut_jpeg,
)


def test_profile_calls(make_profiles: ProfileFactory, vision_model: FakeOpenAIServer) -> None:
    profiles = make_profiles(
        vision=vision_model.base_url, IMAJIN_GATEWAY__PROFILE__KEEP_SELFIES="true"
    )
    transport = httpx.ASGITransport(app=profiles.client.app)
    selfie = astronaut_jpeg()

    async def run() -> None:
        async with AsyncImajinClient("http://profile.test", transport=transport) as imajin:
            analyzed = await imajin.profile_analyze(selfie, filename="me.jpg")
            assert isinstance(analyzed, ProfileAnalyzeResponse)
            assert analyzed.face.detected and analyzed.features == ADULT_FEATURES
            assert analyzed.selfie_id is not None
            await imajin.delete_selfie(analyzed.selfie_id)
            with pytest.raises(ImajinAPIError) as gone:
                await imajin.delete_selfie(analyzed.selfie_id)
            assert gone.value.status == 404

            created = await imajin.profile_create(selfie, style="anime")
            assert isinstance(created, ProfileCreateResponse)
            assert "anime style" in created.prompt_used and created.face.box is not None

            generated = await imajin.profile_generate({"features": ADULT_FEATURES, "seed": 4})
            assert isinstance(generated, ProfileGenerateResponse) and generated.seed == 4

            with pytest.raises(ImajinAPIError) as refused:
                await imajin.profile_analyze(b"GIF89a" + bytes(64))
            assert refused.value.status == 422 and "GIF" in refused.value.message

    asyncio.run(run())
