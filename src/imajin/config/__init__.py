"""Layered settings: shipped defaults < ``config.yaml`` < ``IMAJIN_*`` environment."""

from imajin.config.layout import DataLayout
from imajin.config.loader import defaults_text, load_settings
from imajin.config.settings import (
    AuthSettings,
    ConfiguredKey,
    DatabaseSettings,
    LoggingSettings,
    Scope,
    ServerSettings,
    Settings,
    is_loopback,
)

__all__ = [
    "AuthSettings",
    "ConfiguredKey",
    "DataLayout",
    "DatabaseSettings",
    "LoggingSettings",
    "Scope",
    "ServerSettings",
    "Settings",
    "defaults_text",
    "is_loopback",
    "load_settings",
]
