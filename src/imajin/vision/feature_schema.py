"""The feature schema and question, read from YAML (``features.yaml``), never from code.

:func:`load_feature_schema` validates the file and turns its fields into a pydantic
answer model: its JSON schema is what the model is asked to follow, and every answer
is validated against it.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal, Self

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    create_model,
    model_validator,
)

from imajin.llm.structured import describe_validation_error
from imajin.vision.errors import VisionConfigError

FEATURES_FILE_KEY = "vision.features_file"
_FIELD_NAME = r"^[a-z][a-z0-9_]*$"


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ChoiceField(_Spec):
    """Exactly one of ``values``."""

    kind: Literal["choice"]
    description: str = Field(min_length=1)
    values: list[Annotated[str, StringConstraints(min_length=1)]] = Field(min_length=2)

    @model_validator(mode="after")
    def _distinct(self) -> Self:
        if len(set(self.values)) != len(self.values):
            raise ValueError(f"values repeat one another: {self.values}")
        return self


class ListField(_Spec):
    """Up to ``max_items`` short free texts of at most ``max_length`` characters."""

    kind: Literal["list"]
    description: str = Field(min_length=1)
    max_items: int = Field(ge=1, le=20)
    max_length: int = Field(ge=1, le=200)


FeatureField = Annotated[ChoiceField | ListField, Field(discriminator="kind")]


class MinorRule(_Spec):
    """Which answers mean the person looks under 18 (the profile flow then refuses)."""

    field: str
    values: list[str] = Field(min_length=1)


class FeatureSchema(_Spec):
    """The whole file: instructions, the question, the fields and the minor rule."""

    system: str = Field(min_length=1, description="System message: what to describe, neutrally.")
    question: str = Field(min_length=1, description="User message sent with the two images.")
    fields: dict[Annotated[str, StringConstraints(pattern=_FIELD_NAME)], FeatureField] = Field(
        min_length=1
    )
    minor: MinorRule

    @model_validator(mode="after")
    def _minor_rule_names_a_choice(self) -> Self:
        field = self.fields.get(self.minor.field)
        if not isinstance(field, ChoiceField):
            raise ValueError(f"minor.field {self.minor.field!r} must name a choice field")
        unknown = sorted(set(self.minor.values) - set(field.values))
        if unknown:
            raise ValueError(f"minor.values {unknown} are not values of {self.minor.field!r}")
        return self

    def answer_model(self) -> type[BaseModel]:
        """A pydantic model of one valid answer: closed, every field required."""
        definitions: dict[str, Any] = {
            name: (_annotation(spec), Field(description=spec.description))
            for name, spec in self.fields.items()
        }
        model: type[BaseModel] = create_model(
            "ProfileFeatures",
            __config__=ConfigDict(extra="forbid", frozen=True),
            **definitions,
        )
        return model

    def given_model(self) -> type[BaseModel]:
        """A pydantic model of features a caller gives (``/v1/profile/generate``): closed
        like an answer, the same values, but any field may be left out (or null)."""
        definitions: dict[str, Any] = {
            name: (_annotation(spec) | None, Field(None, description=spec.description))
            for name, spec in self.fields.items()
        }
        model: type[BaseModel] = create_model(
            "GivenProfileFeatures",
            __config__=ConfigDict(extra="forbid", frozen=True),
            **definitions,
        )
        return model

    def is_minor(self, features: Mapping[str, Any]) -> bool:
        """Whether ``features`` say the person looks under 18."""
        return features.get(self.minor.field) in self.minor.values


def _annotation(spec: ChoiceField | ListField) -> Any:
    if isinstance(spec, ChoiceField):
        return Literal[tuple(spec.values)]
    text = Annotated[str, StringConstraints(min_length=1, max_length=spec.max_length)]
    return Annotated[list[text], Field(max_length=spec.max_items)]


def load_feature_schema(path: Path | None = None) -> FeatureSchema:
    """The shipped ``features.yaml``, or the operator's file at ``path``.

    Raises:
        VisionConfigError: The file is missing, not YAML, or breaks a rule (the message
            names ``vision.features_file`` and the rule).
    """
    where = "the shipped features.yaml" if path is None else str(path)
    try:
        if path is None:
            text = resources.files("imajin.vision").joinpath("features.yaml").read_text("utf-8")
        else:
            text = path.read_text(encoding="utf-8")
        data = yaml.safe_load(text)
    except (OSError, yaml.YAMLError) as error:
        raise VisionConfigError(
            f"{FEATURES_FILE_KEY}: cannot read {where}: {error}", field=FEATURES_FILE_KEY
        ) from None
    try:
        return FeatureSchema.model_validate(data)
    except ValidationError as error:
        raise VisionConfigError(
            f"{FEATURES_FILE_KEY}: {where} is invalid: {describe_validation_error(error)}",
            field=FEATURES_FILE_KEY,
        ) from None
