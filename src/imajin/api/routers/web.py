"""Serves the gallery UI from package data: ``/`` is the page, ``/static/...`` its assets.

The page is open to everyone (the API key is typed into the page); every API call
the page makes carries the key. Asset URLs in the page hold a content version
(``/static/<version>/js/main.js``), so they are cached for a year; the page
itself and unversioned asset URLs are revalidated on every load.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from importlib.resources.abc import Traversable
from urllib.parse import urlsplit

from fastapi import APIRouter, Request, Response, status

from imajin.api.deps import SettingsDep
from imajin.errors import NotFound

# Only these types are served; anything else under static/ is a 404.
MEDIA_TYPES = {
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".webp": "image/webp",
    ".woff2": "font/woff2",
}
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
VERSION_PLACEHOLDER = b"{{static}}"
_VERSION = re.compile(r"^[0-9a-f]{12}$")

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class Asset:
    body: bytes
    media_type: str
    etag: str


@dataclass(frozen=True)
class StaticBundle:
    """Every asset by its path under ``static/``, the page, and their content version."""

    version: str
    assets: dict[str, Asset]
    index: Asset

    @property
    def prefix(self) -> str:
        return f"/static/{self.version}"


def _walk(folder: Traversable, prefix: str = "") -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    for entry in folder.iterdir():
        if entry.name.startswith("."):
            continue
        if entry.is_dir():
            found.update(_walk(entry, f"{prefix}{entry.name}/"))
        elif entry.is_file():
            found[prefix + entry.name] = entry.read_bytes()
    return found


def _asset(body: bytes, media_type: str) -> Asset:
    return Asset(body, media_type, f'"{hashlib.sha256(body).hexdigest()[:20]}"')


@cache  # read once per process: the files ship inside the package and do not change
def bundle() -> StaticBundle:
    """Load ``static/`` and ``index.html`` from the installed package."""
    package = files("imajin.web")
    raw = _walk(package.joinpath("static"))
    digest = hashlib.sha256()
    for path in sorted(raw):
        digest.update(path.encode() + b"\0" + raw[path] + b"\0")
    version = digest.hexdigest()[:12]
    assets = {
        path: _asset(body, MEDIA_TYPES[suffix])
        for path, body in raw.items()
        if (suffix := _suffix(path)) in MEDIA_TYPES
    }
    page = package.joinpath("index.html").read_bytes()
    page = page.replace(VERSION_PLACEHOLDER, f"/static/{version}".encode())
    return StaticBundle(version=version, assets=assets, index=_asset(page, MEDIA_TYPES[".html"]))


def _suffix(path: str) -> str:
    return "." + path.rsplit(".", 1)[-1].lower() if "." in path else ""


def content_security_policy(image_base_url: str) -> str:
    """Scripts, styles and API calls from this origin only; images also from the CDN origin."""
    image_sources = ["'self'", "blob:", "data:"]
    parts = urlsplit(image_base_url)
    if parts.scheme in ("http", "https") and parts.netloc:
        image_sources.append(f"{parts.scheme}://{parts.netloc}")
    return "; ".join(
        (
            "default-src 'self'",
            f"img-src {' '.join(image_sources)}",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


def _respond(request: Request, asset: Asset, *, cache_control: str) -> Response:
    headers = {
        "ETag": asset.etag,
        "Cache-Control": cache_control,
        "X-Content-Type-Options": "nosniff",
    }
    if asset.etag in request.headers.get("if-none-match", ""):
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
    body = b"" if request.method == "HEAD" else asset.body
    response = Response(body, media_type=asset.media_type, headers=headers)
    if request.method == "HEAD":
        response.headers["Content-Length"] = str(len(asset.body))
    return response


@router.api_route("/", methods=["GET", "HEAD"])
def index(request: Request, settings: SettingsDep) -> Response:
    """The single page of the gallery UI."""
    response = _respond(request, bundle().index, cache_control=REVALIDATE)
    csp = content_security_policy(settings.variations.public_base_url)
    response.headers["Content-Security-Policy"] = csp
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@router.api_route("/static/{path:path}", methods=["GET", "HEAD"])
def asset(path: str, request: Request) -> Response:
    """An asset: versioned (``/static/<version>/...``) for a year, unversioned revalidated."""
    static = bundle()
    versioned, _, rest = path.partition("/")
    if versioned == static.version:
        found, cache_control = static.assets.get(rest), IMMUTABLE
    else:
        # An unversioned or out-of-date URL gets today's file, revalidated on every use.
        found, cache_control = static.assets.get(path), REVALIDATE
        if found is None and _VERSION.match(versioned):
            found = static.assets.get(rest)
    if found is None:
        # A lookup in a dict of the shipped files: no path from a request ever reaches the disk.
        raise NotFound(f"No UI asset at /static/{path}.")
    return _respond(request, found, cache_control=cache_control)
