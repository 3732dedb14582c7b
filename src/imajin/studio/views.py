"""The API's views of sets, batches and batch items, built from rows and jobs.

Pure functions: :class:`~imajin.studio.service.StudioService` reads what they
need (through its repository and the job service) and hands it in.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from imajin.jobs.models import Job
from imajin.storage.url_signing import Sign
from imajin.studio.outputs import output_url
from imajin.studio.repository import Batch, batch_status
from imajin.studio.schemas import (
    BatchItem,
    BatchSummary,
    LoraPublic,
    Progress,
    SetInfo,
    SetItemPublic,
    SetSummary,
)
from imajin.studio.sets import CardSet


def set_summary(card_set: CardSet) -> SetSummary:
    entry = card_set.entry
    return SetSummary(
        name=entry.name,
        description=entry.description,
        item_count=len(card_set.rows),
        width=entry.width,
        height=entry.height,
        example_theme=entry.example_theme,
    )


def set_info(card_set: CardSet, *, theme: str | None) -> SetInfo:
    """The set with every row's prompt for ``theme`` (default: the set's example theme)."""
    entry = card_set.entry
    used_theme = (theme if theme is not None else entry.example_theme).strip()
    return SetInfo(
        **set_summary(card_set).model_dump(),
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


def batch_summary(batch: Batch, counts: Counter[str], thumbnail: str | None) -> BatchSummary:
    """A batch as listed: its status is derived from its jobs' ``counts``."""
    return BatchSummary(
        batch_id=batch.id,
        set_name=batch.set_name,
        user_theme=batch.user_theme,
        status=batch_status(counts, batch.total),
        total=batch.total,
        succeeded=counts["succeeded"],
        failed=counts["failed"],
        cancelled=counts["cancelled"],
        created_at=batch.created_at,
        output_dir=batch.output_dir,
        thumbnail_url=thumbnail,
    )


def batch_item(job: Job, sign: Sign) -> BatchItem:
    """One row of a batch, as its job says; file URLs (signed by ``sign``) only once it
    succeeded."""
    result = job.result or {}
    succeeded = job.status == "succeeded"

    def url(key: str) -> str | None:
        name = result.get(key)
        return sign(output_url(str(name))) if succeeded and name else None

    return BatchItem(
        job_id=job.id,
        index=row_index(job),
        item=str(job.params.get("item", "")),
        status=job.status,
        progress=Progress(step=job.progress.step, total=job.progress.total),
        image_url=url("image"),
        sidecar_url=url("sidecar"),
        thumbnail_url=url("thumbnail"),
        error=job.error.message if job.error else None,
    )


def row_index(job: Job) -> int:
    """The set row a batch item job renders."""
    return int(job.params.get("index", 0))


def first_thumbnails(succeeded: Sequence[Job]) -> dict[str, str]:
    """Batch id → the thumbnail URL of its first (lowest-index) succeeded image."""
    best: dict[str, tuple[int, str]] = {}
    for job in succeeded:
        url = (job.result or {}).get("thumbnailUrl")
        batch_id = job.group_id
        if not url or batch_id is None:
            continue
        index = row_index(job)
        if batch_id not in best or index < best[batch_id][0]:
            best[batch_id] = (index, str(url))
    return {batch_id: url for batch_id, (_index, url) in best.items()}
