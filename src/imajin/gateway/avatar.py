"""The avatar prompt: a selfie's features through the data template, then the character guard.

Features speak one vocabulary, the feature schema's (``imajin/vision/features.yaml`` or
``vision.features_file``): the vision model answers in it, ``/v1/profile/generate``
accepts only it, and the template (``profile.yaml``) names its fields. Feature values
are cleaned to short plain phrases, so a feature cannot smuggle prompt syntax in. The
apparent age band decides one thing, by the schema's ``minor`` rule: a minor is refused
(422), no avatar. Everything else about age is the character guard's (SPEC §1.1): an
explicit adult age, an adult body, an everyday or professional context, "clearly adult
proportions", and juvenile traits in the negative prompt.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from imajin.errors import ConfigError, InvalidInput, PolicyViolation
from imajin.safety.character import CharacterPrompt, enforce_adult_character
from imajin.vision.feature_schema import FeatureSchema

Features = dict[str, Any]

FIELD = "features"
TEMPLATE_KEY = "gateway.profile.avatar_template"
_MAX_VALUE_CHARS = 60
_MAX_LIST_ITEMS = 5
# Letters (any script), digits, spaces and a little punctuation; the rest becomes a space.
_UNSAFE = re.compile(r"[^\w\s'\-]|_", re.UNICODE)


class MinorRefused(PolicyViolation):
    """The vision model judged the person a minor: no avatar is made (422)."""

    code = "minor_refused"

    def __init__(self, message: str) -> None:
        super().__init__(message, reason="minor_subject", field=FIELD)


class Phrase(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    feature: str = Field(min_length=1, description="A field of the feature schema.")
    text: str = Field(pattern=r"\{value\}")


class TemplateFile(BaseModel):
    """The shipped ``profile.yaml`` (or an operator's copy), as written."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    subject: str = Field(min_length=1)
    phrases: list[Phrase]
    empty_values: list[str]
    styles: dict[str, str]
    default_style: str


class AvatarTemplate:
    """The template file read against the feature schema whose fields it names.

    Args:
        spec: The template file.
        schema: The feature schema: the fields features may have, and the minor rule.
    """

    def __init__(self, *, spec: TemplateFile, schema: FeatureSchema) -> None:
        self.spec = spec
        self.schema = schema
        self._given = schema.given_model()
        self._empty = {value.lower() for value in spec.empty_values}

    @classmethod
    def load(cls, path: str | Path | None = None, *, schema: FeatureSchema) -> AvatarTemplate:
        """The template at ``path``, or the one shipped with imajin.

        Raises:
            ConfigError: The file is invalid, or a phrase names a feature the schema lacks.
        """
        if path is None:
            text = resources.files("imajin.gateway").joinpath("profile.yaml").read_text("utf-8")
            where = "imajin/gateway/profile.yaml"
        else:
            where = str(path)
            try:
                text = Path(path).read_text(encoding="utf-8")
            except OSError as exc:
                raise ConfigError(
                    f"{TEMPLATE_KEY}: cannot read {where}: {exc}", field=TEMPLATE_KEY
                ) from None
        try:
            spec = TemplateFile.model_validate(yaml.safe_load(text))
        except (yaml.YAMLError, ValidationError) as exc:
            raise ConfigError(
                f"{where} is not a valid avatar template: {exc}", field=TEMPLATE_KEY
            ) from None
        if spec.default_style not in spec.styles:
            raise ConfigError(
                f"{where}: default_style {spec.default_style!r} has no entry.", field=TEMPLATE_KEY
            )
        unknown = sorted({p.feature for p in spec.phrases} - set(schema.fields))
        if unknown:
            raise ConfigError(
                f"{where}: phrases name features {unknown} that the feature schema "
                f"(vision.features_file) does not have; it has {sorted(schema.fields)}. "
                "Give a template whose phrases name only its fields "
                f"({TEMPLATE_KEY}).",
                field=TEMPLATE_KEY,
            )
        return cls(spec=spec, schema=schema)

    def check(self, features: Mapping[str, object]) -> Features:
        """Caller-given features (``/v1/profile/generate``) validated against the schema:
        only its fields, only its values; a field left out is not drawn.

        Raises:
            InvalidInput: A feature the schema lacks, or a value it does not allow
                (``field`` is ``features.<name>``).
        """
        try:
            given = self._given.model_validate(dict(features))
        except ValidationError as exc:
            problem = exc.errors(include_url=False)[0]
            name = ".".join(str(part) for part in problem["loc"])
            raise InvalidInput(
                f"Feature {name!r} is not valid for the feature schema: {problem['msg']} "
                "(features are what /v1/profile/analyze returns).",
                field=f"{FIELD}.{name}" if name else FIELD,
            ) from None
        checked: Features = given.model_dump(mode="json", exclude_none=True)
        return checked

    def refuse_minor(self, features: Features) -> None:
        """Raises :class:`MinorRefused` when the schema's ``minor`` rule matches ``features``."""
        if self.schema.is_minor(features):
            raise MinorRefused(
                "The person in the selfie appears to be under 18; profiles make avatars "
                "of adults only, so no avatar was made."
            )

    def describe(self, features: Features, style: str | None) -> str:
        """The prompt before the character guard: subject, feature phrases, style."""
        spec = self.spec
        chosen = style or spec.default_style
        if chosen not in spec.styles:
            raise ConfigError(f"The avatar template has no style {chosen!r}.")
        parts = [spec.subject]
        for phrase in spec.phrases:
            value = self._clean(features.get(phrase.feature))
            if value:
                parts.append(phrase.text.replace("{value}", value))
        parts.append(spec.styles[chosen])
        return ", ".join(parts)

    def character(
        self, features: Features, *, style: str | None, seed: int | None
    ) -> CharacterPrompt:
        """The avatar prompt made clearly adult (raises on a minor, or a hard-blocked text)."""
        self.refuse_minor(features)
        return enforce_adult_character(self.describe(features, style), seed=seed, field=FIELD)

    def _clean(self, value: object) -> str:
        if isinstance(value, list):
            items = [self._clean(item) for item in value[:_MAX_LIST_ITEMS]]
            return ", ".join(item for item in items if item)
        if not isinstance(value, str) or value.lower() in self._empty:
            return ""
        return " ".join(_UNSAFE.sub(" ", value).split())[:_MAX_VALUE_CHARS].strip()
