"""The LLM answer cache (SPEC §4.3 rule 5): validated answers in the SQL store, for reuse.

An entry is keyed by :func:`cache_key`: the stage, the messages sent (the question
and the context it embeds), the answer's schema and the model id. Only answers the
LLM generated and that validated enter it. A store failure never fails a request:
the cache is skipped with a warning.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from imajin.errors import ServiceUnavailable
from imajin.llm.messages import Message
from imajin.store.database import Database
from imajin.store.tables import LLMCacheRow

__all__ = ["AnswerCache", "SqlAnswerCache", "cache_key"]

logger = logging.getLogger(__name__)


def cache_key(
    *, stage: str, messages: Sequence[Message], schema: dict[str, Any], model_id: str
) -> str:
    """The SHA-256 hex key of one question to one model."""
    payload = {
        "stage": stage,
        "messages": [message.model_dump() for message in messages],
        "schema": schema,
        "model": model_id,
    }
    encoded = json.dumps(payload, sort_keys=True, ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(encoded).hexdigest()


class AnswerCache(Protocol):
    """Where answers are kept; :class:`SqlAnswerCache` in production."""

    def get(self, key: str) -> dict[str, Any] | None:
        """The answer stored under ``key``, or None."""
        ...

    def put(
        self, *, key: str, stage: str, model_id: str, question: str, answer: dict[str, Any]
    ) -> None:
        """Store (or replace) the answer under ``key``."""
        ...


class SqlAnswerCache:
    """Answers in the ``llm_cache`` table.

    Args:
        database: The store.
        ttl_s: Seconds an answer stays usable; None keeps answers forever.
    """

    def __init__(self, database: Database, *, ttl_s: float | None = None) -> None:
        self._database = database
        self._ttl = timedelta(seconds=ttl_s) if ttl_s is not None else None

    def get(self, key: str) -> dict[str, Any] | None:
        """The answer stored under ``key`` and still fresh, or None (also when the store fails)."""
        try:
            with self._database.session() as session:
                row = session.get(LLMCacheRow, key)
                if row is None:
                    return None
                if self._ttl is not None and row.created_at < datetime.now(UTC) - self._ttl:
                    return None
                return dict(row.answer)
        except (ServiceUnavailable, SQLAlchemyError) as error:
            logger.warning("LLM cache read skipped: %s", error)
            return None

    def put(
        self, *, key: str, stage: str, model_id: str, question: str, answer: dict[str, Any]
    ) -> None:
        """Store the answer under ``key``, replacing an older one; store failures are logged."""
        try:
            with self._database.session() as session:
                row = session.get(LLMCacheRow, key)
                if row is None:
                    session.add(
                        LLMCacheRow(
                            key=key,
                            stage=stage,
                            model_id=model_id,
                            question=question,
                            answer=answer,
                        )
                    )
                else:
                    row.answer, row.created_at = answer, datetime.now(UTC)
        except IntegrityError:
            # Another request stored the same question's answer first; theirs is as good.
            return
        except (ServiceUnavailable, SQLAlchemyError) as error:
            logger.warning("LLM cache write skipped: %s", error)
