"""The batch studio (SPEC §5): sets, batches, single generations, outputs, themes, config.

Job lists, cancel and live progress are the job routes': a batch's jobs carry
``groupId`` = its batch id (``GET /api/jobs?groupId=…``, ``/api/events?subject=…``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, status
from fastapi.responses import FileResponse

from imajin.api.auth import AdminAccess, GenerateAccess, ReadAccess, SignedReadAccess
from imajin.api.deps import Offset, StudioDep
from imajin.api.openapi import error_responses
from imajin.contracts.studio import (
    BatchCreate,
    BatchCreated,
    BatchDetail,
    BatchPage,
    GenerateAccepted,
    GenerateRequest,
    SetInfo,
    SetSummary,
    StudioConfigPublic,
    StudioConfigUpdate,
    Theme,
)
from imajin.storage.paths import MAX_DEPTH, MAX_SEGMENT

router = APIRouter(prefix="/api", tags=["studio"])


@router.get("/sets", response_model=list[SetSummary], dependencies=[ReadAccess])
def list_sets(studio: StudioDep) -> list[SetSummary]:
    return studio.set_summaries()


@router.get(
    "/sets/{name}/info",
    response_model=SetInfo,
    dependencies=[ReadAccess],
    responses=error_responses(404),
)
def set_info(
    name: str,
    studio: StudioDep,
    theme: Annotated[
        str | None, Query(max_length=2000, description="Default: example_theme.")
    ] = None,
) -> SetInfo:
    return studio.set_info(name, theme=theme)


@router.post(
    "/generate/batch",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=BatchCreated,
    dependencies=[GenerateAccess],
    responses=error_responses(404, 429),  # 404: set or model
    summary="Render every row of a set with a theme (all rows queued or none)",
)
def create_batch(body: BatchCreate, studio: StudioDep) -> BatchCreated:
    return studio.create_batch(body)


@router.post(
    "/generate",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=GenerateAccepted,
    dependencies=[GenerateAccess],
    responses=error_responses(404, 429),  # 404: model or LoRA
    summary="Generate images from one prompt (queued; output in outputs/single_<timestamp>)",
)
def generate(body: GenerateRequest, studio: StudioDep) -> GenerateAccepted:
    job = studio.generate(body)
    return GenerateAccepted(job_id=job.id, status=job.status)


@router.get("/batches", response_model=BatchPage, dependencies=[ReadAccess])
def list_batches(
    studio: StudioDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Offset = 0,
) -> BatchPage:
    return studio.batch_page(limit=limit, offset=offset)


@router.get(
    "/batches/{batch_id}",
    response_model=BatchDetail,
    dependencies=[ReadAccess],
    responses=error_responses(404),
)
def get_batch(batch_id: str, studio: StudioDep) -> BatchDetail:
    return studio.batch_detail(batch_id)


# What storage.paths.confined accepts, said in the schema (it still checks every rule).
_SEGMENT = rf"[A-Za-z0-9_][A-Za-z0-9._-]{{0,{MAX_SEGMENT - 1}}}"
_OUTPUT_PATH = rf"^{_SEGMENT}(/{_SEGMENT}){{0,{MAX_DEPTH - 1}}}$"


@router.get(
    "/outputs/{path:path}",
    response_class=FileResponse,
    dependencies=[SignedReadAccess],
    responses=error_responses(400, 404),  # 400: a path outside the outputs root
    summary="A studio output file (image or sidecar), confined to the outputs root",
)
def serve_output(
    path: Annotated[str, Path(json_schema_extra={"pattern": _OUTPUT_PATH})], studio: StudioDep
) -> FileResponse:
    found = studio.output_file(path)  # raises UnsafePath (400) for escapes
    return FileResponse(found.path, media_type=found.media_type)


@router.get("/themes/random", response_model=Theme, dependencies=[ReadAccess])
def random_theme(studio: StudioDep) -> Theme:
    return Theme(theme=studio.random_theme())


@router.get("/config", response_model=StudioConfigPublic, dependencies=[ReadAccess])
def get_config(studio: StudioDep) -> StudioConfigPublic:
    return studio.public_config()


@router.put(
    "/config",
    response_model=StudioConfigPublic,
    dependencies=[AdminAccess],
    summary="Change studio defaults: checked as a whole, saved atomically, or not at all",
)
def put_config(body: StudioConfigUpdate, studio: StudioDep) -> StudioConfigPublic:
    studio.update_config(body.model_dump(exclude_unset=True))
    return studio.public_config()
