"""File storage: the ``FileStorage`` protocol, a local directory with atomic writes,
and path confinement."""

from imajin.storage.base import FileStorage
from imajin.storage.local import LocalFileStorage, StorageHealth
from imajin.storage.paths import UnsafePath, confine_path

__all__ = ["FileStorage", "LocalFileStorage", "StorageHealth", "UnsafePath", "confine_path"]
