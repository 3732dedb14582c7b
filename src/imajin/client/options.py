"""Connection options shared by the sync and async clients."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from imajin import __version__

__all__ = ["ClientOptions"]


@dataclass(frozen=True)
class ClientOptions:
    """Where the server is, how to authenticate, how long to wait."""

    base_url: str
    api_key: str | None = None
    timeout: float = 300.0

    def __post_init__(self) -> None:
        if not self.base_url.startswith(("http://", "https://")):
            raise ValueError(
                f"`base_url` must start with http:// or https://; got {self.base_url!r}."
            )
        if self.timeout <= 0:
            raise ValueError(f"`timeout` must be positive; got {self.timeout}.")

    def httpx_arguments(self) -> dict[str, Any]:
        """Keyword arguments for ``httpx.Client`` / ``httpx.AsyncClient``."""
        headers = {"User-Agent": f"imajin-client/{__version__}"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        return {
            "base_url": self.base_url.rstrip("/"),
            "headers": headers,
            "timeout": self.timeout,
        }
