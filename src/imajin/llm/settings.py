"""The ``llm:`` settings section lives in :mod:`imajin.config.llm` (config imports nothing
of ours); re-exported here for the llm package's own use."""

from imajin.config.llm import DEFAULT_MODEL_ID, CallPolicy, LLMSettings, ModelDefinition

__all__ = ["DEFAULT_MODEL_ID", "CallPolicy", "LLMSettings", "ModelDefinition"]
