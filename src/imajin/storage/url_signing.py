"""Signed image URLs (SPEC §3.2): an ``<img>`` tag or a CDN fetches an image without a key.

With API keys on, every image URL the API hands out carries ``sig``, an HMAC
(SHA-256) with a server secret over the URL's path and its query (the content
version ``v`` included), so a signature is good for exactly one file version
and cannot be moved to another path. Signatures do not expire: the URLs are
content-versioned and meant to be cached by CDNs for a year. To revoke every
URL handed out so far, rotate the secret (``imajin keys rotate-url-secret``, or
delete the file); running servers notice the new file on their next request.

The secret lives in ``<data_dir>/url-signing.key`` (mode 0600), created on first
use. Every process sharing the data dir (API nodes, workers) reads the same one.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import os
import secrets
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from imajin.errors import ConfigError

SIGNATURE_PARAM = "sig"
SECRET_MODE = 0o600
_SECRET_BYTES = 32
_SIGNATURE_BYTES = 16  # 128 bits: far beyond guessing, short enough for a URL

Sign = Callable[[str], str]
"""URL → the URL to hand out (signed, or unchanged when auth is off)."""


def _unsigned(url: str) -> str:
    return url


def write_secret(path: Path, *, replace: bool) -> None:
    """Write a new random secret to ``path`` (mode 0600), atomically.

    Args:
        path: The secret file.
        replace: Rotate: replace an existing secret. Without it, a secret that
            another process wrote first is kept (``FileExistsError`` is swallowed).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    descriptor = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, SECRET_MODE)
    try:
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write(secrets.token_hex(_SECRET_BYTES) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        if replace:
            temp.replace(path)
        else:
            with contextlib.suppress(FileExistsError):  # it exists: the first writer wins
                os.link(temp, path)
    finally:
        temp.unlink(missing_ok=True)


class UrlSigner:
    """Signs and checks image URLs with the secret in ``secret_file``.

    Args:
        secret_file: ``<data_dir>/url-signing.key``; created (0600) on first use.
        active: Whether auth is on; with it off, :meth:`signing` leaves URLs as
            they are (and there is nothing a signature would unlock).
    """

    def __init__(self, secret_file: Path, *, active: Callable[[], bool]) -> None:
        self._file = secret_file
        self._active = active
        self._lock = threading.Lock()
        self._loaded: tuple[tuple[int, int], bytes] | None = None

    def signing(self) -> Sign:
        """A function that signs URLs, or leaves them unchanged while auth is off.

        Ask once per response, not per URL: whether auth is on may take a query.
        """
        return self.sign if self._active() else _unsigned

    def sign(self, url: str) -> str:
        """``url`` with ``sig`` added (any old ``sig`` replaced). Absolute URLs keep their
        origin; the signature covers only the path and query, as the server sees them."""
        parts = urlsplit(url)
        query = [(k, v) for k, v in parse_qsl(parts.query) if k != SIGNATURE_PARAM]
        signature = self._signature(parts.path, query)
        signed = urlencode([*query, (SIGNATURE_PARAM, signature)])
        return urlunsplit((parts.scheme, parts.netloc, parts.path, signed, parts.fragment))

    def verify(self, path: str, query: Iterable[tuple[str, str]]) -> bool:
        """Whether a request for ``path`` with this query carries a valid signature."""
        pairs = list(query)
        given = [v for k, v in pairs if k == SIGNATURE_PARAM]
        if len(given) != 1:
            return False
        rest = [(k, v) for k, v in pairs if k != SIGNATURE_PARAM]
        # Compared as bytes: compare_digest refuses str with non-ASCII characters (a 500
        # the API fuzz found); such a sig is simply wrong.
        expected = self._signature(path, rest).encode()
        return hmac.compare_digest(given[0].encode("utf-8", "surrogateescape"), expected)

    def _signature(self, path: str, query: list[tuple[str, str]]) -> str:
        message = path + "?" + urlencode(sorted(query))
        digest = hmac.new(self._secret(), message.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest[:_SIGNATURE_BYTES]).decode().rstrip("=")

    def _secret(self) -> bytes:
        """The secret, re-read when the file changes (rotation) and created when absent."""
        with self._lock:
            try:
                stat = self._file.stat()
            except FileNotFoundError:
                write_secret(self._file, replace=False)
                stat = self._file.stat()
            identity = (stat.st_ino, stat.st_mtime_ns)
            if self._loaded is None or self._loaded[0] != identity:
                text = self._file.read_text(encoding="ascii").strip()
                if len(text) < _SECRET_BYTES:  # damaged or hand-edited: never sign with it
                    raise ConfigError(
                        f"{self._file.name} in the data directory holds no usable secret; "
                        "run `imajin keys rotate-url-secret`"
                    )
                self._loaded = (identity, text.encode())
            return self._loaded[1]


def sign_urls(value: Any, sign: Sign) -> Any:
    """``value`` (e.g. a job result) with every ``…Url`` string that points into ``/api/``
    signed; other values, and URLs elsewhere, as they were."""
    if isinstance(value, dict):
        return {
            key: sign(item)
            if key.endswith("Url") and isinstance(item, str) and item.startswith("/api/")
            else sign_urls(item, sign)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [sign_urls(item, sign) for item in value]
    return value
