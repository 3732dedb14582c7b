"""The composition root: the one place that builds implementations from settings.

Services get their collaborators through constructors; routes reach them
through :class:`Platform`, stored on the app's state.
"""

from __future__ import annotations

from dataclasses import dataclass

from imajin.config.settings import Settings
from imajin.storage.local import LocalFileStorage
from imajin.store.api_keys import ApiKeyRepository
from imajin.store.database import Database


@dataclass
class Platform:
    """Everything a running imajin node holds."""

    settings: Settings
    database: Database
    storage: LocalFileStorage
    api_keys: ApiKeyRepository

    def close(self) -> None:
        self.database.dispose()


def build_platform(settings: Settings, *, database: Database | None = None) -> Platform:
    """Build every service from ``settings`` (``database`` lets tests pass their own)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    database = database or Database(settings.database_url, echo=settings.database.echo)
    return Platform(
        settings=settings,
        database=database,
        storage=LocalFileStorage(settings.data_dir),
        api_keys=ApiKeyRepository(database, configured=settings.auth.keys),
    )
