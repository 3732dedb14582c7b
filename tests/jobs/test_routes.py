"""One Celery route rule for every engine job kind (warm-model affinity)."""

from __future__ import annotations

from pathlib import Path

import pytest

from imajin.config.loader import load_settings
from imajin.contracts.gateway import ChatImageRequest
from imajin.contracts.studio import GenerateRequest
from imajin.contracts.variations import VariationCreate
from imajin.jobs.routes import MAX_ROUTE, route_for_model
from imajin.store.migrate import upgrade
from imajin.testing.manifest import write_tiny_manifest
from imajin.wiring import build_platform


@pytest.mark.parametrize(
    ("model_id", "route"),
    [
        ("juggernaut-xl-v9", "juggernaut-xl-v9"),
        ("animagine-xl-4.0-opt", "animagine-xl-4.0-opt"),
        ("/srv/models/my model", "_srv_models_my_model"),
        ("", "default"),
        ("x" * 300, "x" * MAX_ROUTE),
    ],
)
def test_a_model_id_becomes_a_queue_safe_route(model_id: str, route: str) -> None:
    assert route_for_model(model_id) == route


def test_variation_studio_and_gateway_jobs_of_one_model_share_its_route(
    tmp_path: Path, tiny_sd15_path: Path
) -> None:
    data = tmp_path / "data"
    write_tiny_manifest(data, {"tiny-sd15": tiny_sd15_path})
    environ = {
        "IMAJIN_DATA_DIR": str(data),
        "IMAJIN_JOBS__WORKERS": "0",  # queued only: this is about where they would go
        "IMAJIN_GATEWAY__MODEL": "tiny-sd15",
    }
    platform = build_platform(load_settings(environ=environ, cwd=tmp_path))
    upgrade(platform.database)
    try:
        generation = {"prompt": "a harbour", "model": "tiny-sd15"}
        variation = platform.variations.create(
            VariationCreate.model_validate({"name": "harbour", "generation": generation})
        )
        studio = platform.studio.generate(GenerateRequest.model_validate(generation))
        assert platform.gateway is not None
        pending = platform.gateway.submit_chat_image("shorts", ChatImageRequest(message="a cat"))
        assert variation.job_id is not None
        routes = {
            platform.jobs.get(job_id).route
            for job_id in (variation.job_id, studio.id, pending.job_id)
        }
    finally:
        platform.close()
    assert routes == {"tiny-sd15"}
