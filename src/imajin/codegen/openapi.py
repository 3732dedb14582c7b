"""The server's OpenAPI document, built from the app without starting a server."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from imajin.api.app import create_app
from imajin.config.loader import load_settings
from imajin.wiring import build_platform

# The document depends on the code, not on a deployment: a throwaway data folder and
# the shipped defaults only (no config.yaml, no environment), and no worker threads.
_ENVIRON = {"IMAJIN_JOBS__WORKERS": "0"}


def openapi_document() -> dict[str, Any]:
    """What ``GET /openapi.json`` answers on a server with the shipped defaults."""
    with tempfile.TemporaryDirectory(prefix="imajin-openapi-") as folder:
        root = Path(folder)
        settings = load_settings(environ={**_ENVIRON, "IMAJIN_DATA_DIR": str(root)}, cwd=root)
        platform = build_platform(settings)
        try:
            return create_app(platform).openapi()
        finally:
            platform.close()


def openapi_json() -> str:
    """:func:`openapi_document` as stable, indented JSON text (a trailing newline)."""
    return json.dumps(openapi_document(), indent=2, sort_keys=False) + "\n"
