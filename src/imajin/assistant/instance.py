"""Instance configuration (SPEC §4.3): the weights, goals and policy a caller owns.

imajin ships none (rule 2). An instance configuration arrives with a request
(``instanceConfig``) or is named (``instance``) from the deployer's
``assistant.instances``; :class:`InstanceCatalog` holds the named ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic.alias_generators import to_camel

from imajin.assistant.errors import (
    AssistantConfigError,
    InstanceConfigMissing,
    InvalidInstanceConfig,
)
from imajin.llm.structured import describe_validation_error
from imajin.safety.maturity import MaturityPolicy

__all__ = [
    "GoalRequest",
    "InstanceCatalog",
    "InstanceConfig",
    "ModelSelection",
    "load_instance_file",
]

GOAL_NAME = r"^[a-z][a-z0-9_]{0,49}$"
Weight = Annotated[float, Field(ge=0.0, le=1.0)]
Threshold = float | int | bool | str


class CamelModel(BaseModel):
    """Base of the wire and configuration models: camelCase keys, snake_case accepted."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        serialize_by_alias=True,
        extra="forbid",
        frozen=True,
    )


class GoalRequest(CamelModel):
    """One extraction goal an instance asks for, by name, with optional refinements."""

    name: str = Field(pattern=GOAL_NAME, description="A known goal's name, or a new goal's.")
    description: str | None = Field(
        None,
        min_length=1,
        max_length=500,
        description="What to decide; required for a goal imajin does not know.",
    )
    allowed_values: list[Annotated[str, Field(min_length=1, max_length=100)]] | None = Field(
        None, min_length=1, max_length=50, description="The only values the answer may take."
    )
    group: str | None = Field(
        None,
        pattern=GOAL_NAME,
        description="For a new goal, the group it is asked in (default: custom).",
    )


class ModelSelection(CamelModel):
    """Which configured LLM answers which stage; a request's ``llmModelId`` overrides both."""

    default_model: str | None = Field(
        None, description="LLM model id for every stage; None: the configured default model."
    )
    stage_overrides: dict[str, str] = Field(
        default_factory=dict,
        description="Stage name (term_analysis, extraction, extraction.<group>, ...) to model id.",
    )


class InstanceConfig(CamelModel):
    """An instance configuration in the SPEC §4.3 schema."""

    instance_name: str = Field(min_length=1, max_length=100, description="Names the instance.")
    factor_weights: dict[str, Weight] = Field(
        min_length=1,
        max_length=50,
        description="Factor name to weight, 0 (ignore) to 1 (decisive).",
        # The names `_named_factors` accepts, said in the schema.
        json_schema_extra={"propertyNames": {"pattern": r"\S", "maxLength": 100}},
    )
    extraction_goals: list[GoalRequest] = Field(
        min_length=1, max_length=60, description="Goals to extract: names or objects."
    )
    model_selection: ModelSelection = Field(
        default_factory=ModelSelection, description="Model per stage."
    )
    maturity_policy: MaturityPolicy = Field(description="The maturity band this instance allows.")
    thresholds: dict[str, Threshold] = Field(
        default_factory=dict, description="Instance-owned thresholds, shown to the model."
    )

    @field_validator("extraction_goals", mode="before")
    @classmethod
    def _names_are_goals(cls, goals: Any) -> Any:
        # A bare name is shorthand for {name: <name>}.
        if isinstance(goals, list):
            return [{"name": goal} if isinstance(goal, str) else goal for goal in goals]
        return goals

    @field_validator("extraction_goals")
    @classmethod
    def _unique_goals(cls, goals: list[GoalRequest]) -> list[GoalRequest]:
        names = [goal.name for goal in goals]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"goals are listed more than once: {', '.join(repeated)}")
        if "reasoning" in names:
            raise ValueError("`reasoning` is reserved for the model's reasoning; rename the goal")
        return goals

    @field_validator("factor_weights")
    @classmethod
    def _named_factors(cls, weights: dict[str, float]) -> dict[str, float]:
        blank = [name for name in weights if not name.strip() or len(name) > 100]
        if blank:
            raise ValueError("factor names must be 1 to 100 characters")
        return weights


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

    def resolve(self, config: InstanceConfig | None, name: str | None) -> InstanceConfig:
        """The instance a request uses: its own, the one it names, or the deployer's default.

        Raises:
            InvalidInstanceConfig: Both or an unknown name were given.
            InstanceConfigMissing: Neither was given and no default is configured.
        """
        if config is not None and name is not None:
            raise InvalidInstanceConfig(
                "Send either `instanceConfig` or `instance`, not both.", field="instance"
            )
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
