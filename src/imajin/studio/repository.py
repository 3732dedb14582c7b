"""Batch rows, and how a batch's status follows from its jobs' statuses.

A batch's state is never stored twice: it is read from its jobs
(``jobs.group_id = batches.id``), which the job system keeps exact and the
studio service asks the job service about.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from imajin.jobs.models import JobStatus
from imajin.store.database import Database
from imajin.store.tables import BatchRow
from imajin.studio.errors import StudioNotFound
from imajin.studio.schemas import BatchStatus


@dataclass(frozen=True)
class Batch:
    id: str
    set_name: str
    user_theme: str
    output_dir: str
    total: int
    model: str
    seed: int
    params: dict[str, Any]
    created_at: datetime


def batch_status(counts: Counter[str], total: int) -> BatchStatus:
    """A batch's status from its jobs' statuses.

    Jobs still queued or running: ``running`` once any job has run (it is running or
    has succeeded or failed), else ``queued``. All ended: ``complete`` (all
    succeeded), ``partial`` (some did), ``cancelled`` (none succeeded and none
    failed), else ``failed``.
    """
    succeeded, failed = counts[JobStatus.SUCCEEDED], counts[JobStatus.FAILED]
    if counts[JobStatus.QUEUED] or counts[JobStatus.RUNNING]:
        has_run = counts[JobStatus.RUNNING] or succeeded or failed
        return BatchStatus.RUNNING if has_run else BatchStatus.QUEUED
    if succeeded == total:
        return BatchStatus.COMPLETE
    if succeeded:
        return BatchStatus.PARTIAL
    return BatchStatus.FAILED if failed else BatchStatus.CANCELLED


class BatchRepository:
    def __init__(self, database: Database) -> None:
        self.database = database

    def insert(self, session: Session, batch: Batch) -> None:
        session.add(
            BatchRow(
                id=batch.id,
                set_name=batch.set_name,
                user_theme=batch.user_theme,
                output_dir=batch.output_dir,
                total=batch.total,
                model=batch.model,
                seed=batch.seed,
                params=batch.params,
                created_at=batch.created_at,
            )
        )
        session.flush()

    def get(self, batch_id: str) -> Batch:
        with self.database.session() as session:
            row = session.get(BatchRow, batch_id)
            if row is None:
                raise StudioNotFound(f"No batch with id {batch_id!r}.", field="batch_id")
            return _batch(row)

    def page(self, *, limit: int, offset: int) -> tuple[list[Batch], int]:
        """Batches, newest first, and how many there are."""
        with self.database.session() as session:
            total = session.scalar(select(func.count()).select_from(BatchRow)) or 0
            rows = session.scalars(
                select(BatchRow)
                .order_by(BatchRow.created_at.desc(), BatchRow.id)
                .limit(limit)
                .offset(offset)
            ).all()
            return [_batch(row) for row in rows], int(total)


def _batch(row: BatchRow) -> Batch:
    return Batch(
        id=row.id,
        set_name=row.set_name,
        user_theme=row.user_theme,
        output_dir=row.output_dir,
        total=row.total,
        model=row.model,
        seed=row.seed,
        params=row.params,
        created_at=row.created_at,
    )
