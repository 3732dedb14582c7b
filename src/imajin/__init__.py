"""imajin: a self-hosted AI image-generation platform.

One engine (diffusers), one safety layer, one durable job system and one SQL
store behind the HTTP contracts of five systems. See ``docs/architecture.md``.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("imajin")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
