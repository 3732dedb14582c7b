"""Instance configuration (SPEC §4.3): the weights, goals and policy a caller owns.

imajin ships none (rule 2). An instance configuration arrives with a request
(``instanceConfig``) or is named (``instance``) from the deployer's
``assistant.instances``; :class:`InstanceCatalog` holds the named ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from imajin.assistant.errors import (
    AssistantConfigError,
    InstanceConfigMissing,
    InvalidInstanceConfig,
)
from imajin.contracts.assistant import CamelModel, GoalRequest, InstanceConfig, ModelSelection
from imajin.llm.structured import describe_validation_error

__all__ = [
    "CamelModel",
    "GoalRequest",
    "InstanceCatalog",
    "InstanceConfig",
    "ModelSelection",
    "load_instance_file",
]


def parse_instance(data: Any, *, field: str) -> InstanceConfig:
    """Validate ``data`` into an :class:`InstanceConfig`.

    Raises:
        InvalidInstanceConfig: It breaks the schema; ``field`` prefixes the key at fault.
    """
    try:
        return InstanceConfig.model_validate(data)
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        where = ".".join([field, *(str(part) for part in first["loc"])])
        raise InvalidInstanceConfig(
            f"`{field}` is not a valid instance configuration: {describe_validation_error(error)}. "
            "See examples/instances/seo.yaml for the schema.",
            field=where,
        ) from None


def load_instance_file(path: Path) -> InstanceConfig:
    """Read and validate an instance configuration YAML file.

    Raises:
        AssistantConfigError: The file is missing, is not YAML, or breaks the schema.
    """
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise AssistantConfigError(f"Cannot read instance file {path}: {error}") from None
    try:
        return parse_instance(data, field=str(path))
    except InvalidInstanceConfig as error:
        raise AssistantConfigError(error.message, field=error.field) from None


class InstanceCatalog:
    """The deployer's named instances (``assistant.instances``), validated up front.

    Args:
        instances: Name to a YAML file path or an inline mapping.
        default: The name used when a request names none and sends none.
        base_dir: Relative file paths are resolved against it.

    Raises:
        AssistantConfigError: An instance is unreadable or invalid (the key is named).
    """

    def __init__(
        self,
        instances: Mapping[str, Path | Mapping[str, Any]],
        *,
        default: str | None = None,
        base_dir: Path,
    ) -> None:
        self._instances: dict[str, InstanceConfig] = {}
        for name, source in instances.items():
            key = f"assistant.instances.{name}"
            try:
                if isinstance(source, Path):
                    path = source if source.is_absolute() else base_dir / source
                    self._instances[name] = load_instance_file(path)
                else:
                    self._instances[name] = parse_instance(dict(source), field=key)
            except (AssistantConfigError, InvalidInstanceConfig) as error:
                raise AssistantConfigError(f"{key}: {error.message}", field=key) from None
        self.default = default

    @property
    def names(self) -> list[str]:
        """The configured instance names, sorted."""
        return sorted(self._instances)

    def resolve(
        self, config: InstanceConfig | None, name: str | None, *, yaml_text: str | None = None
    ) -> InstanceConfig:
        """The instance a request uses: its own (an object or YAML text), the one it names,
        or the deployer's default.

        Raises:
            InvalidInstanceConfig: More than one, an unknown name or invalid YAML was given.
            InstanceConfigMissing: None was given and no default is configured.
        """
        given = [
            key
            for key, value in (
                ("instanceConfig", config),
                ("instance", name),
                ("instanceYaml", yaml_text),
            )
            if value is not None
        ]
        if len(given) > 1:
            raise InvalidInstanceConfig(
                f"Send one of `instanceConfig`, `instance` and `instanceYaml`; got "
                f"{' and '.join(f'`{key}`' for key in given)}.",
                field=given[-1],
            )
        if yaml_text is not None:
            return parse_instance(_yaml_mapping(yaml_text), field="instanceYaml")
        if config is not None:
            return config
        known = ", ".join(self.names) or "none are configured"
        if name is not None:
            if name not in self._instances:
                raise InvalidInstanceConfig(
                    f"No instance named {name!r}; the deployer's instances are: {known}.",
                    field="instance",
                )
            return self._instances[name]
        if self.default is not None:
            return self._instances[self.default]
        raise InstanceConfigMissing(
            "No instance configuration: imajin has no default weights or goals (SPEC §4.3 "
            "rule 2). Send `instanceConfig` (an object with instanceName, factorWeights, "
            "extractionGoals, maturityPolicy; see examples/instances/seo.yaml) or `instance` "
            f"naming one under the deployer's assistant.instances ({known}).",
            field="instanceConfig",
        )


def _yaml_mapping(text: str) -> Any:
    """Parse pasted instance YAML; the error names the line the parser stopped at."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        problem = getattr(error, "problem", None) or "not valid YAML"
        raise InvalidInstanceConfig(
            f"`instanceYaml` is not valid YAML{where}: {problem}.", field="instanceYaml"
        ) from None
