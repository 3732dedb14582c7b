"""The avatar template speaks the feature schema's vocabulary; the minor rule is the schema's."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml

from imajin.errors import ConfigError, InvalidInput
from imajin.gateway.avatar import TEMPLATE_KEY, AvatarTemplate, MinorRefused
from imajin.vision.feature_schema import load_feature_schema
from tests.profile.conftest import ADULT_FEATURES


def _shipped_schema() -> dict[str, Any]:
    text = resources.files("imajin.vision").joinpath("features.yaml").read_text("utf-8")
    loaded: dict[str, Any] = yaml.safe_load(text)
    return loaded


def _schema_file(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "features.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def test_the_shipped_template_draws_every_described_field_but_the_age_band() -> None:
    template = AvatarTemplate.load(schema=load_feature_schema())
    drawn = {phrase.feature for phrase in template.spec.phrases}
    assert drawn == set(load_feature_schema().fields) - {"age_band"}
    prompt = template.describe(ADULT_FEATURES, None)
    assert "dark brown hair" in prompt and "freckles" in prompt and "none" not in prompt


def test_a_template_naming_a_field_the_schema_lacks_fails_naming_both(tmp_path: Path) -> None:
    data = _shipped_schema()
    del data["fields"]["hair_colour"]
    schema = load_feature_schema(_schema_file(tmp_path, data))
    with pytest.raises(ConfigError) as error:
        AvatarTemplate.load(schema=schema)
    assert "hair_colour" in error.value.message and "vision.features_file" in error.value.message
    assert error.value.field == TEMPLATE_KEY


def test_the_minor_rule_is_the_schemas(tmp_path: Path) -> None:
    data = _shipped_schema()
    data["minor"]["values"] = ["under_18", "18_25"]
    schema = load_feature_schema(_schema_file(tmp_path, data))
    template = AvatarTemplate.load(schema=schema)
    young = {**ADULT_FEATURES, "age_band": "18_25"}
    assert schema.is_minor(young)
    with pytest.raises(MinorRefused):
        template.refuse_minor(young)
    template.refuse_minor(ADULT_FEATURES)  # 26_35 stays allowed
    # The shipped rule: only under_18.
    shipped = AvatarTemplate.load(schema=load_feature_schema())
    shipped.refuse_minor(young)
    with pytest.raises(MinorRefused):
        shipped.refuse_minor({**ADULT_FEATURES, "age_band": "under_18"})


def test_given_features_are_checked_against_the_schema() -> None:
    template = AvatarTemplate.load(schema=load_feature_schema())
    assert template.check(ADULT_FEATURES) == ADULT_FEATURES
    assert template.check({"eye_colour": "green", "glasses": None}) == {"eye_colour": "green"}
    with pytest.raises(InvalidInput) as error:
        template.check({**ADULT_FEATURES, "age_band": "30_44"})
    assert error.value.field == "features.age_band" and "under_18" in error.value.message
