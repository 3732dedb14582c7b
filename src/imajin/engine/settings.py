"""The ``engine:`` settings section lives in :mod:`imajin.config.engine` (config imports
nothing of ours); re-exported here for the engine's own use."""

from imajin.config.engine import EngineSettings, StyleDefaults

__all__ = ["EngineSettings", "StyleDefaults"]
