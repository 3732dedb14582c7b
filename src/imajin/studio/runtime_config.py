"""The studio defaults an admin edits at run time (``GET/PUT /api/config``).

They start as ``studio.defaults`` from the configuration; a saved edit is
kept in ``<data_dir>/studio-config.yaml`` and wins over it from then on
(delete the file to go back). An update is checked as a whole — field rules,
then that the model and sampler exist — before anything is written, and the
file is replaced atomically, so a bad value never leaves half an edit behind.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any

import yaml
from pydantic import ValidationError

from imajin.config.studio import StudioDefaults
from imajin.engine.request import invalid_input_from
from imajin.errors import ConfigError, ImajinError, InvalidInput
from imajin.storage.base import FileStorage

RUNTIME_FILE = "studio-config.yaml"

logger = logging.getLogger(__name__)

DefaultsCheck = Callable[[StudioDefaults], None]
"""Raises :class:`InvalidInput` (naming the field) when defaults cannot work, e.g. an
unknown model."""


class StudioConfigStore:
    """The studio defaults in force, and their atomic, validated update.

    Args:
        base: ``studio.defaults`` from the configuration.
        storage: The data directory (the runtime file lives at its top).
        check: Checks that need other services (model registry, samplers).
    """

    def __init__(self, *, base: StudioDefaults, storage: FileStorage, check: DefaultsCheck) -> None:
        self._storage = storage
        self._check = check
        self._lock = threading.Lock()
        self._current = self._load(base)

    @property
    def path(self) -> str:
        return str(self._storage.path(RUNTIME_FILE))

    def current(self) -> StudioDefaults:
        return self._current

    def update(self, changes: Mapping[str, Any]) -> StudioDefaults:
        """Apply ``changes`` (any subset of the fields) and save; all of them or none.

        Raises:
            InvalidInput: naming the first field at fault; nothing is applied.
        """
        with self._lock:
            merged = {**self._current.model_dump(), **changes}
            try:
                updated = StudioDefaults.model_validate(merged)
            except ValidationError as exc:
                raise invalid_input_from(exc) from None
            self._check(updated)
            text = yaml.safe_dump(updated.model_dump(), sort_keys=False, allow_unicode=True)
            header = "# Studio defaults saved by PUT /api/config; they win over config.yaml.\n"
            self._storage.write_bytes(RUNTIME_FILE, (header + text).encode())
            self._current = updated
            return updated

    def _load(self, base: StudioDefaults) -> StudioDefaults:
        if not self._storage.exists(RUNTIME_FILE):
            return base
        origin = self.path
        try:
            saved = yaml.safe_load(self._storage.read_bytes(RUNTIME_FILE)) or {}
            if not isinstance(saved, dict):
                raise InvalidInput("must hold a mapping of settings", field="file")
            loaded = StudioDefaults.model_validate({**base.model_dump(), **saved})
        except ValidationError as exc:
            problem = invalid_input_from(exc)
            raise ConfigError(f"{origin}: {problem.message}", field=problem.field) from None
        except (yaml.YAMLError, ImajinError) as exc:
            raise ConfigError(f"{origin} is not usable: {exc}", field="studio.defaults") from None
        try:
            self._check(loaded)
        except ImajinError as exc:
            # A model may come and go (an operator manifest edit); report, but keep serving.
            logger.warning("%s: %s", origin, exc.message)
        return loaded
