"""Public URLs of variation derivatives: the service's views and the handler's events."""

from __future__ import annotations

from imajin.storage.url_signing import Sign, UrlSigner


def version(content_hash: str) -> str:
    """The ``?v=`` of a derivative URL."""
    return content_hash[:16]


class VariationUrls:
    """Builds a derivative's public URL under ``public_base_url`` ("" = relative).

    With a ``signer``, URLs are signed while auth is on (SPEC §3.2).
    """

    def __init__(self, public_base_url: str, *, signer: UrlSigner | None = None) -> None:
        self._base = public_base_url.rstrip("/")
        self._signer = signer

    def signing(self) -> Sign:
        """Signs URLs for one response (unchanged while auth is off or with no signer)."""
        return self._signer.signing() if self._signer is not None else _unchanged

    def public_url(
        self,
        variation_name: str,
        derivative_name: str,
        content_hash: str,
        *,
        sign: Sign,
    ) -> str:
        """A derivative's URL, signed by ``sign`` (from :meth:`signing`, once per response:
        whether auth is on may take a query)."""
        # The version is the content: a regenerate that changes pixels changes the URL,
        # so a CDN may cache each URL forever. Signed before the base is put in front:
        # the server checks the path it is asked for.
        path = sign(f"/api/images/{variation_name}/{derivative_name}?v={version(content_hash)}")
        return f"{self._base}{path}"


def _unchanged(url: str) -> str:
    return url
