"""The typed shape of imajin's configuration.

Every section forbids unknown keys, so a typo fails at start-up instead of
being ignored. Defaults here must equal ``config.defaults.yaml`` (a test holds
them together); the YAML file is what operators read.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from imajin.config.assistant import AssistantSettings
from imajin.config.engine import EngineSettings
from imajin.config.gateway import GatewaySettings
from imajin.config.imaging import ImagingSettings
from imajin.config.jobs import JobsSettings
from imajin.config.layout import DataLayout
from imajin.config.llm import LLMSettings
from imajin.config.studio import StudioSettings
from imajin.config.training import TrainingSettings
from imajin.config.variations import VariationsSettings
from imajin.config.vision import VisionSettings

# Re-exported (explicitly, for strict type checkers): settings and their callers name it here.
from imajin.contracts.keys import Scope as Scope  # noqa: PLC0414


class Section(BaseModel):
    """Base of every settings section: strict about keys, immutable once built."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ServerSettings(Section):
    host: str = Field("127.0.0.1", description="Address to bind; non-loopback needs API keys.")
    port: int = Field(8000, ge=1, le=65535, description="TCP port to listen on.")
    insecure: bool = Field(
        False, description="Allow a non-loopback bind with no API keys configured."
    )
    cors_origins: list[str] = Field(
        default_factory=list, description="Origins allowed by CORS; empty disables CORS."
    )
    max_body_bytes: int = Field(
        20 * 1024 * 1024, ge=1024, description="Largest request body accepted (413 beyond)."
    )
    request_threads: int = Field(
        8,
        ge=1,
        le=200,
        description="Threads that run the synchronous routes. Each request's work is short "
        "(jobs run elsewhere); more threads only contend for the GIL in a burst.",
    )
    starts_per_turn: int = Field(
        8,
        ge=1,
        le=10_000,
        description="Requests that may start in one event-loop turn; the rest of a burst "
        "starts in later turns, so health probes are read between them.",
    )

    @field_validator("cors_origins")
    @classmethod
    def _no_wildcard_with_credentials(cls, origins: list[str]) -> list[str]:
        for origin in origins:
            if origin != "*" and not origin.startswith(("http://", "https://")):
                raise ValueError(f"CORS origin {origin!r} must start with http:// or https://")
        return origins


class DatabaseSettings(Section):
    url: str | None = Field(
        None,
        description="SQLAlchemy URL; empty means the SQLite file <data_dir>/imajin.db. "
        "postgresql:// URLs use psycopg 3.",
    )
    echo: bool = Field(False, description="Log every SQL statement (debugging only).")

    @field_validator("url")
    @classmethod
    def _known_backend(cls, url: str | None) -> str | None:
        if url is None or url == "":
            return None
        if not url.startswith(("sqlite", "postgresql", "postgres://")):
            raise ValueError("only sqlite:// and postgresql:// URLs are supported")
        return url


class LoggingSettings(Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["human", "json"] = Field("human", description="json for log shippers.")


class ConfiguredKey(Section):
    """An API key given in configuration as its SHA-256 hash (never the key itself)."""

    id: str = Field(min_length=1, max_length=64)
    hash: str = Field(pattern=r"^[0-9a-f]{64}$", description="sha256 hex of the full key.")
    scopes: list[Scope] = Field(min_length=1)
    name: str = ""


class AuthSettings(Section):
    keys: list[ConfiguredKey] = Field(
        default_factory=list,
        description="Keys as hashes; `imajin keys create` adds keys to the database instead.",
    )


class EventsSettings(Section):
    redis_url: str | None = Field(
        None, description="Also publish every event to Redis pub/sub (channel imajin.events)."
    )
    retention_days: int = Field(
        30,
        ge=0,
        description="Events older than this are deleted (0: kept forever); never those "
        "of queued or running jobs, nor any not yet relayed.",
    )
    relay_interval_s: float = Field(
        0.2,
        gt=0,
        le=10.0,
        description="How often the relay reads new events from the outbox: the most a live "
        "stream lags behind a state change (and the shortest a live preview must last).",
    )


class Settings(Section):
    """The whole effective configuration. Build it with :func:`imajin.config.load_settings`."""

    data_dir: Path = Field(Path("data"), description="Database, images, outputs, models, cache.")
    server: ServerSettings = ServerSettings()
    database: DatabaseSettings = DatabaseSettings()
    logging: LoggingSettings = LoggingSettings()
    auth: AuthSettings = AuthSettings()
    engine: EngineSettings = EngineSettings()
    jobs: JobsSettings = JobsSettings()
    imaging: ImagingSettings = ImagingSettings()
    variations: VariationsSettings = VariationsSettings()
    llm: LLMSettings = LLMSettings()
    assistant: AssistantSettings = AssistantSettings()
    studio: StudioSettings = StudioSettings()
    training: TrainingSettings = TrainingSettings()
    events: EventsSettings = EventsSettings()
    gateway: GatewaySettings = GatewaySettings()
    vision: VisionSettings = VisionSettings()

    @property
    def layout(self) -> DataLayout:
        """Every path under ``data_dir``."""
        return DataLayout(self.data_dir)

    @property
    def database_url(self) -> str:
        """The database URL in force: the configured one or the SQLite default."""
        return self.database.url or f"sqlite:///{self.layout.database}"

    @property
    def binds_loopback(self) -> bool:
        """Whether ``server.host`` only accepts connections from this machine."""
        return is_loopback(self.server.host)


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback IPv4/IPv6 literals."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
