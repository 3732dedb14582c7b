"""Variation and derivative rows, and the events written with their state changes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from imajin.events.outbox import record_event
from imajin.imaging.files import StoredImage
from imajin.store.database import Database
from imajin.store.tables import DerivativeRow, VariationRow, utcnow
from imajin.variations.errors import VariationNotFound
from imajin.variations.events import VariationEvent
from imajin.variations.schemas import VariationStatus


@dataclass(frozen=True)
class Derivative:
    name: str
    family: str
    is_master: bool
    path: str
    width: int
    height: int
    bytes: int
    content_hash: str


@dataclass(frozen=True)
class Variation:
    id: str
    name: str
    category: str
    status: VariationStatus
    generation_params: dict[str, Any]
    families: list[str]
    job_id: str | None
    error: str | None
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None
    derivatives: list[Derivative]


class VariationRepository:
    def __init__(self, database: Database) -> None:
        self.database = database

    def insert(
        self,
        session: Session,
        *,
        id: str,
        name: str,
        category: str,
        params: dict[str, Any],
        families: Sequence[str],
        job_id: str,
        event: dict[str, Any],
        event_type: str,
    ) -> None:
        now = utcnow()
        session.add(
            VariationRow(
                id=id,
                name=name,
                category=category,
                status=VariationStatus.QUEUED.value,
                generation_params=params,
                families=list(families),
                job_id=job_id,
                created_at=now,
                updated_at=now,
            )
        )
        session.flush()
        record_event(session, event_type, event, job_id=job_id, subject=id)

    def name_taken(self, name: str) -> bool:
        with self.database.session() as session:
            return (
                session.scalar(select(VariationRow.id).where(VariationRow.name == name)) is not None
            )

    def get(self, variation_id: str) -> Variation:
        with self.database.session() as session:
            row = session.get(VariationRow, variation_id)
            if row is None:
                raise VariationNotFound(f"No variation with id {variation_id!r}.", field="id")
            return _variation(session, row)

    def by_name(self, name: str) -> Variation:
        with self.database.session() as session:
            row = session.scalars(select(VariationRow).where(VariationRow.name == name)).first()
            if row is None:
                raise VariationNotFound(f"No variation named {name!r}.", field="name")
            return _variation(session, row)

    def page(self, *, category: str | None, limit: int, offset: int) -> tuple[list[Variation], int]:
        query = select(VariationRow)
        if category is not None:
            query = query.where(VariationRow.category == category)
        with self.database.session() as session:
            total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
            rows = session.scalars(
                query.order_by(VariationRow.created_at.desc(), VariationRow.id)
                .limit(limit)
                .offset(offset)
            ).all()
            return [_variation(session, row) for row in rows], int(total)

    def requeue(
        self, session: Session, variation_id: str, *, params: dict[str, Any], job_id: str
    ) -> None:
        session.execute(
            update(VariationRow)
            .where(VariationRow.id == variation_id)
            .values(
                status=VariationStatus.QUEUED.value,
                generation_params=params,
                job_id=job_id,
                error=None,
                completed_at=None,
                updated_at=utcnow(),
            )
        )

    def set_status(
        self,
        session: Session,
        variation_id: str,
        status: VariationStatus,
        *,
        error: str | None = None,
    ) -> None:
        now = utcnow()
        values: dict[str, Any] = {"status": status.value, "error": error, "updated_at": now}
        if status in (VariationStatus.COMPLETE, VariationStatus.PARTIAL, VariationStatus.FAILED):
            values["completed_at"] = now
        session.execute(
            update(VariationRow).where(VariationRow.id == variation_id).values(**values)
        )

    def change(
        self,
        variation_id: str,
        status: VariationStatus,
        *,
        job_id: str,
        event_type: str | None = None,
        event: dict[str, Any] | None = None,
        error: str | None = None,
    ) -> None:
        """Set a variation's status and record its event, in one transaction of its own."""
        with self.database.session() as session:
            self.change_in(
                session,
                variation_id,
                status,
                job_id=job_id,
                event_type=event_type,
                event=event,
                error=error,
            )

    def change_in(
        self,
        session: Session,
        variation_id: str,
        status: VariationStatus,
        *,
        job_id: str,
        event_type: str | None = None,
        event: dict[str, Any] | None = None,
        error: str | None = None,
    ) -> None:
        """:meth:`change` inside ``session``'s transaction (a job's final one)."""
        self.set_status(session, variation_id, status, error=error)
        if event_type is not None:
            record_event(session, event_type, event or {}, job_id=job_id, subject=variation_id)

    def store_family(
        self,
        variation_id: str,
        family: str,
        stored: Sequence[StoredImage],
        *,
        job_id: str,
        event: dict[str, Any],
    ) -> None:
        """A family's rows and its FAMILY_COMPLETED event, in one transaction.

        Fails (foreign key) if the variation was deleted meanwhile; the caller then
        removes the family's files.
        """
        with self.database.session() as session:
            self.replace_family(session, variation_id, family, stored)
            record_event(
                session,
                VariationEvent.FAMILY_COMPLETED,
                event,
                job_id=job_id,
                subject=variation_id,
            )

    def waiting_on(self, session: Session, variation_id: str, job_id: str) -> Variation | None:
        """The variation if it is still queued or generating for ``job_id``, else None."""
        row = session.get(VariationRow, variation_id)
        if row is None or row.job_id != job_id:
            return None  # deleted, or regenerated under a newer job
        if row.status not in (VariationStatus.QUEUED.value, VariationStatus.GENERATING.value):
            return None  # the handler settled it already
        return _variation(session, row)

    def replace_family(
        self, session: Session, variation_id: str, family: str, stored: Sequence[StoredImage]
    ) -> None:
        """Swap a family's rows for the files just written (the variation must still exist)."""
        session.execute(
            delete(DerivativeRow).where(
                DerivativeRow.variation_id == variation_id, DerivativeRow.family == family
            )
        )
        for image in stored:
            session.add(
                DerivativeRow(
                    variation_id=variation_id,
                    family=family,
                    name=image.name,
                    is_master=image.is_master,
                    path=image.path,
                    width=image.width,
                    height=image.height,
                    bytes=image.size_bytes,
                    content_hash=image.sha256,
                )
            )
        session.flush()

    def served(self, variation_name: str, derivative_name: str) -> Derivative:
        """The derivative a URL names, or NotFound."""
        with self.database.session() as session:
            row = session.scalars(
                select(DerivativeRow)
                .join(VariationRow)
                .where(
                    VariationRow.name == variation_name,
                    DerivativeRow.name == derivative_name,
                    DerivativeRow.is_master.is_(False),
                )
            ).first()
            if row is None:
                raise VariationNotFound(
                    f"No derivative {derivative_name!r} of variation {variation_name!r}.",
                    field="derivativeName",
                )
            return _derivative(row)

    def delete(self, variation_id: str) -> Variation:
        with self.database.session() as session:
            row = session.get(VariationRow, variation_id)
            if row is None:
                raise VariationNotFound(f"No variation with id {variation_id!r}.", field="id")
            variation = _variation(session, row)
            session.execute(delete(DerivativeRow).where(DerivativeRow.variation_id == variation_id))
            session.delete(row)
            return variation


def _derivative(row: DerivativeRow) -> Derivative:
    return Derivative(
        name=row.name,
        family=row.family,
        is_master=row.is_master,
        path=row.path,
        width=row.width,
        height=row.height,
        bytes=row.bytes,
        content_hash=row.content_hash,
    )


def _variation(session: Session, row: VariationRow) -> Variation:
    derivatives = session.scalars(
        select(DerivativeRow).where(DerivativeRow.variation_id == row.id).order_by(DerivativeRow.id)
    ).all()
    return Variation(
        id=row.id,
        name=row.name,
        category=row.category,
        status=VariationStatus(row.status),
        generation_params=row.generation_params,
        families=list(row.families),
        job_id=row.job_id,
        error=row.error,
        created_at=row.created_at,
        updated_at=row.updated_at,
        completed_at=row.completed_at,
        derivatives=[_derivative(d) for d in derivatives],
    )
