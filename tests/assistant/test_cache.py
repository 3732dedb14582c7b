"""The LLM answer cache in the SQL store, on SQLite and PostgreSQL."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest

from imajin.assistant.cache import SqlAnswerCache, cache_key
from imajin.llm import Message
from imajin.store.database import Database
from imajin.store.tables import LLMCacheRow


def key(question: str, model: str = "m") -> str:
    return cache_key(
        stage="s", messages=[Message.user(question)], schema={"type": "object"}, model_id=model
    )


def test_answers_are_stored_replaced_and_keyed_by_question_and_model(database: Database) -> None:
    cache = SqlAnswerCache(database)
    assert key("a") != key("b") and key("a") != key("a", model="other")
    assert cache.get(key("a")) is None

    cache.put(key=key("a"), stage="s", model_id="m", question="a", answer={"x": 1})
    cache.put(key=key("a"), stage="s", model_id="m", question="a", answer={"x": 2})

    assert cache.get(key("a")) == {"x": 2}
    with database.session() as session:
        assert session.query(LLMCacheRow).count() == 1


def test_expired_answers_are_not_served(database: Database) -> None:
    cache = SqlAnswerCache(database, ttl_s=60)
    cache.put(key=key("a"), stage="s", model_id="m", question="a", answer={"x": 1})
    assert cache.get(key("a")) == {"x": 1}

    with database.session() as session:
        row = session.get(LLMCacheRow, key("a"))
        assert row is not None
        row.created_at = datetime.now(UTC) - timedelta(minutes=2)

    assert cache.get(key("a")) is None


def test_a_store_failure_skips_the_cache(
    tmp_path: object, caplog: pytest.LogCaptureFixture
) -> None:
    unmigrated = Database(f"sqlite:///{tmp_path}/empty.db")
    cache = SqlAnswerCache(unmigrated)

    with caplog.at_level(logging.WARNING):
        assert cache.get(key("a")) is None
        cache.put(key=key("a"), stage="s", model_id="m", question="a", answer={})

    assert "LLM cache read skipped" in caplog.text and "LLM cache write skipped" in caplog.text
    unmigrated.dispose()
