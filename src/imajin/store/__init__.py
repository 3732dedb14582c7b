"""The SQL store: one SQLAlchemy database (SQLite or PostgreSQL), tables, migrations."""

from imajin.store.database import Database
from imajin.store.migrate import current_revision, head_revision, upgrade

__all__ = ["Database", "current_revision", "head_revision", "upgrade"]
