"""Every endpoint as a function that builds its :class:`~imajin.client.call.Call`.

Each endpoint is described once; the sync and async clients only send
(:mod:`imajin.client.endpoints` binds the builders to both). The builders live by
area, in :mod:`~imajin.client.calls_assistant`, :mod:`~imajin.client.calls_variations`,
:mod:`~imajin.client.calls_studio`, :mod:`~imajin.client.calls_jobs`,
:mod:`~imajin.client.calls_gateway`, :mod:`~imajin.client.calls_models`,
:mod:`~imajin.client.calls_keys`; this module
names them all, so ``client.send(calls.get_job(job_id))`` reads the same for each.
"""

from __future__ import annotations

from imajin.client.call import Call, Stream, json_as
from imajin.client.calls_assistant import (
    analyze_context,
    generate_prompts,
    get_pipeline,
    list_pipelines,
    send_analyze_context,
    send_generate_prompts,
)
from imajin.client.calls_gateway import (
    caption,
    chat_image,
    delete_selfie,
    expand,
    imagegen,
    profile_analyze,
    profile_create,
    profile_generate,
)
from imajin.client.calls_jobs import cancel_job, events, get_job, job_events, list_jobs
from imajin.client.calls_keys import create_key, list_keys, revoke_key, whoami
from imajin.client.calls_models import list_loras, pull_model
from imajin.client.calls_studio import (
    create_batch,
    generate,
    get_batch,
    get_config,
    get_output,
    get_set,
    list_batches,
    list_sets,
    random_theme,
    update_config,
)
from imajin.client.calls_training import (
    list_training_folders,
    start_training,
    training_defaults,
)
from imajin.client.calls_variations import (
    create_variation,
    delete_variation,
    get_derivative,
    get_variation,
    get_variation_by_name,
    list_families,
    list_models,
    list_variations,
    ml_health,
    regenerate_variation,
)
from imajin.contracts.common import HealthPublic

__all__ = [
    "Call",
    "Health",
    "Stream",
    "analyze_context",
    "cancel_job",
    "caption",
    "chat_image",
    "create_batch",
    "create_key",
    "create_variation",
    "delete_selfie",
    "delete_variation",
    "events",
    "expand",
    "generate",
    "generate_prompts",
    "get_batch",
    "get_config",
    "get_derivative",
    "get_job",
    "get_output",
    "get_pipeline",
    "get_set",
    "get_variation",
    "get_variation_by_name",
    "health",
    "imagegen",
    "job_events",
    "list_batches",
    "list_families",
    "list_jobs",
    "list_keys",
    "list_loras",
    "list_models",
    "list_pipelines",
    "list_sets",
    "list_training_folders",
    "list_variations",
    "ml_health",
    "profile_analyze",
    "profile_create",
    "profile_generate",
    "pull_model",
    "random_theme",
    "regenerate_variation",
    "revoke_key",
    "send_analyze_context",
    "send_generate_prompts",
    "start_training",
    "training_defaults",
    "update_config",
    "whoami",
]

Health = HealthPublic
"""``GET /health``'s answer (the server's own model)."""


def health() -> Call[HealthPublic]:
    """``GET /health`` (a degraded platform answers 503 with the same body)."""
    return Call("GET", "/health", json_as(HealthPublic), ok=(200, 503))
