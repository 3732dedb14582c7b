"""The batch studio (SPEC §5): sets, batches, single generations, outputs, themes, config.

Job lists, cancel and live progress are the job routes': a batch's jobs carry
``groupId`` = its batch id (``GET /api/jobs?groupId=…``, ``/api/events?subject=…``).
"""

from __future__ import annotations

from collections import Counter
from typing import Annotated

from fastapi import APIRouter, Query, status
from fastapi.responses import FileResponse

from imajin.api.auth import AdminAccess, GenerateAccess, ReadAccess
from imajin.api.deps import Offset, PlatformDep
from imajin.contracts.studio import (
    BatchCreate,
    BatchCreated,
    BatchDetail,
    BatchItem,
    BatchPage,
    BatchSummary,
    GenerateAccepted,
    GenerateRequest,
    LoraPublic,
    Progress,
    SetInfo,
    SetItemPublic,
    SetSummary,
    StudioConfigPublic,
    StudioConfigUpdate,
    Theme,
)
from imajin.errors import NotFound
from imajin.jobs.models import Job
from imajin.studio.outputs import output_url
from imajin.studio.repository import Batch, batch_status
from imajin.studio.sets import CardSet
from imajin.wiring import Platform

router = APIRouter(prefix="/api", tags=["studio"])

MEDIA_TYPES = {".png": "image/png", ".webp": "image/webp", ".json": "application/json"}


@router.get("/sets", response_model=list[SetSummary], dependencies=[ReadAccess])
def list_sets(platform: PlatformDep) -> list[SetSummary]:
    return [_summary(card_set) for card_set in platform.studio.sets.list()]


@router.get("/sets/{name}/info", response_model=SetInfo, dependencies=[ReadAccess])
def set_info(
    name: str,
    platform: PlatformDep,
    theme: Annotated[
        str | None, Query(max_length=2000, description="Default: example_theme.")
    ] = None,
) -> SetInfo:
    card_set = platform.studio.sets.get(name)
    entry = card_set.entry
    used_theme = (theme if theme is not None else entry.example_theme).strip()
    return SetInfo(
        **_summary(card_set).model_dump(),
        base_prompt=entry.base_prompt,
        prompt_template=entry.prompt_template,
        style_suffix=entry.style_suffix,
        negative_prompt=entry.negative_prompt,
        loras=[LoraPublic(path=str(lora.path), weight=lora.weight) for lora in entry.loras],
        columns=list(card_set.columns),
        items=[
            SetItemPublic(
                index=row.index,
                item=row.item,
                values=dict(row.values),
                prompt=card_set.prompt(row, used_theme),
            )
            for row in card_set.rows
        ],
    )


@router.post(
    "/generate/batch",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=BatchCreated,
    dependencies=[GenerateAccess],
    summary="Render every row of a set with a theme (all rows queued or none)",
)
def create_batch(body: BatchCreate, platform: PlatformDep) -> BatchCreated:
    return platform.studio.create_batch(body)


@router.post(
    "/generate",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=GenerateAccepted,
    dependencies=[GenerateAccess],
    summary="Generate images from one prompt (queued; output in outputs/single_<timestamp>)",
)
def generate(body: GenerateRequest, platform: PlatformDep) -> GenerateAccepted:
    job = platform.studio.generate(body)
    return GenerateAccepted(job_id=job.id, status=job.status)


@router.get("/batches", response_model=BatchPage, dependencies=[ReadAccess])
def list_batches(
    platform: PlatformDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Offset = 0,
) -> BatchPage:
    repository = platform.studio.batches
    batches, total = repository.page(limit=limit, offset=offset)
    ids = [batch.id for batch in batches]
    counts = repository.status_counts(ids)
    thumbnails = repository.thumbnails(ids)
    items = [_batch_summary(b, counts[b.id], thumbnails.get(b.id)) for b in batches]
    return BatchPage(items=items, total=total, limit=limit, offset=offset)


@router.get("/batches/{batch_id}", response_model=BatchDetail, dependencies=[ReadAccess])
def get_batch(batch_id: str, platform: PlatformDep) -> BatchDetail:
    repository = platform.studio.batches
    batch = repository.get(batch_id)
    jobs = repository.jobs(batch_id)
    items = [_batch_item(job) for job in jobs]
    first = next((item.thumbnail_url for item in items if item.thumbnail_url), None)
    summary = _batch_summary(batch, repository.status_counts([batch_id])[batch_id], first)
    return BatchDetail(**summary.model_dump(), items=items)


@router.get(
    "/outputs/{path:path}",
    response_class=FileResponse,
    dependencies=[ReadAccess],
    summary="A studio output file (image or sidecar), confined to the outputs root",
)
def serve_output(path: str, platform: PlatformDep) -> FileResponse:
    target = platform.studio.outputs.path(path)  # raises UnsafePath (400) for escapes
    media_type = MEDIA_TYPES.get(target.suffix.lower())
    if media_type is None or not target.is_file():
        raise NotFound(f"No output file {path!r}.", field="path")
    return FileResponse(target, media_type=media_type)


@router.get("/themes/random", response_model=Theme, dependencies=[ReadAccess])
def random_theme(platform: PlatformDep) -> Theme:
    return Theme(theme=platform.studio.random_theme())


@router.get("/config", response_model=StudioConfigPublic, dependencies=[ReadAccess])
def get_config(platform: PlatformDep) -> StudioConfigPublic:
    return _config(platform)


@router.put(
    "/config",
    response_model=StudioConfigPublic,
    dependencies=[AdminAccess],
    summary="Change studio defaults: checked as a whole, saved atomically, or not at all",
)
def put_config(body: StudioConfigUpdate, platform: PlatformDep) -> StudioConfigPublic:
    platform.studio.update_config(body.model_dump(exclude_unset=True))
    return _config(platform)


def _config(platform: Platform) -> StudioConfigPublic:
    return StudioConfigPublic.model_validate(platform.studio.config.current().model_dump())


def _summary(card_set: CardSet) -> SetSummary:
    entry = card_set.entry
    return SetSummary(
        name=entry.name,
        description=entry.description,
        item_count=len(card_set.rows),
        width=entry.width,
        height=entry.height,
        example_theme=entry.example_theme,
    )


def _batch_summary(batch: Batch, counter: Counter[str], thumbnail: str | None) -> BatchSummary:
    return BatchSummary(
        batch_id=batch.id,
        set_name=batch.set_name,
        user_theme=batch.user_theme,
        status=batch_status(counter, batch.total),
        total=batch.total,
        succeeded=counter["succeeded"],
        failed=counter["failed"],
        cancelled=counter["cancelled"],
        created_at=batch.created_at,
        output_dir=batch.output_dir,
        thumbnail_url=thumbnail,
    )


def _batch_item(job: Job) -> BatchItem:
    result = job.result or {}
    succeeded = job.status == "succeeded"

    def url(key: str) -> str | None:
        name = result.get(key)
        return output_url(str(name)) if succeeded and name else None

    return BatchItem(
        job_id=job.id,
        index=int(job.params.get("index", 0)),
        item=str(job.params.get("item", "")),
        status=job.status,
        progress=Progress(step=job.progress.step, total=job.progress.total),
        image_url=url("image"),
        sidecar_url=url("sidecar"),
        thumbnail_url=url("thumbnail"),
        error=job.error.message if job.error else None,
    )
