"""The avatar prompt: a selfie's features through the data template, then the character guard.

The template (``profile.yaml``) says which features reach the prompt and in what
words; feature values are cleaned to short plain phrases, so a feature cannot
smuggle prompt syntax in. The apparent age band decides one thing: a minor band
is refused (422), no avatar. Everything else about age is the character guard's
(SPEC §1.1): an explicit adult age, an adult body, an everyday or professional
context, "clearly adult proportions", and juvenile traits in the negative prompt.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from imajin.errors import ConfigError, PolicyViolation
from imajin.safety.character import CharacterPrompt, enforce_adult_character

Features = dict[str, Any]

FIELD = "features"
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

    keys: list[str] = Field(min_length=1)
    text: str = Field(pattern=r"\{value\}")


class AvatarTemplate(BaseModel):
    """The shipped ``profile.yaml`` (or an operator's copy)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    age_band_keys: list[str] = Field(min_length=1)
    minor_bands: list[str] = Field(min_length=1)
    subject: str = Field(min_length=1)
    phrases: list[Phrase]
    empty_values: list[str | bool]
    styles: dict[str, str]
    default_style: str

    @classmethod
    def load(cls, path: str | Path | None = None) -> AvatarTemplate:
        """The template at ``path``, or the one shipped with imajin."""
        if path is None:
            text = resources.files("imajin.gateway").joinpath("profile.yaml").read_text("utf-8")
            where = "imajin/gateway/profile.yaml"
        else:
            text, where = Path(path).read_text(encoding="utf-8"), str(path)
        try:
            template = cls.model_validate(yaml.safe_load(text))
        except (yaml.YAMLError, ValidationError) as exc:
            raise ConfigError(f"{where} is not a valid avatar template: {exc}") from None
        if template.default_style not in template.styles:
            raise ConfigError(f"{where}: default_style {template.default_style!r} has no entry.")
        return template

    def refuse_minor(self, features: Features) -> None:
        """Raises :class:`MinorRefused` when the features' age band is a minor band."""
        minor = {band.lower() for band in self.minor_bands}
        for key in self.age_band_keys:
            band = features.get(key)
            if isinstance(band, str) and band.strip().lower() in minor:
                raise MinorRefused(
                    "The person in the selfie appears to be under 18; profiles make avatars "
                    "of adults only, so no avatar was made."
                )

    def describe(self, features: Features, style: str | None) -> str:
        """The prompt before the character guard: subject, feature phrases, style."""
        chosen = style or self.default_style
        if chosen not in self.styles:
            raise ConfigError(f"The avatar template has no style {chosen!r}.")
        parts = [self.subject]
        for phrase in self.phrases:
            value = self._value(features, phrase.keys)
            if value:
                parts.append(phrase.text.replace("{value}", value))
        parts.append(self.styles[chosen])
        return ", ".join(parts)

    def character(
        self, features: Features, *, style: str | None, seed: int | None
    ) -> CharacterPrompt:
        """The avatar prompt made clearly adult (raises on a minor, or a hard-blocked text)."""
        self.refuse_minor(features)
        return enforce_adult_character(self.describe(features, style), seed=seed, field=FIELD)

    def _value(self, features: Features, keys: list[str]) -> str:
        for key in keys:
            if key in features:
                return self._clean(features[key], key)
        return ""

    def _clean(self, value: object, key: str) -> str:
        empty = {v.lower() if isinstance(v, str) else v for v in self.empty_values}
        if isinstance(value, bool):
            # `glasses: true` draws glasses; `false` draws nothing.
            return key.replace("_", " ") if value else ""
        if isinstance(value, list):
            items = [self._clean(item, key) for item in value[:_MAX_LIST_ITEMS]]
            return ", ".join(item for item in items if item)
        if not isinstance(value, str | int | float):
            return ""
        text = " ".join(_UNSAFE.sub(" ", str(value)).split())[:_MAX_VALUE_CHARS].strip()
        return "" if text.lower() in empty else text
