"""Public URLs of variation derivatives: the service's views and the handler's events."""

from __future__ import annotations


def version(content_hash: str) -> str:
    """The ``?v=`` of a derivative URL."""
    return content_hash[:16]


class VariationUrls:
    """Builds a derivative's public URL under ``public_base_url`` ("" = relative)."""

    def __init__(self, public_base_url: str) -> None:
        self._base = public_base_url.rstrip("/")

    def public_url(self, variation_name: str, derivative_name: str, content_hash: str) -> str:
        # The version is the content: a regenerate that changes pixels changes the URL,
        # so a CDN may cache each URL forever.
        return (
            f"{self._base}/api/images/{variation_name}/{derivative_name}?v={version(content_hash)}"
        )
