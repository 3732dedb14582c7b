"""Instance configuration, goals, settings and the factory the composition root calls."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from imajin.assistant import (
    AssistantConfigError,
    InstanceConfig,
    InvalidInstanceConfig,
    build_assistant,
    llm_health,
    prompt_guard,
)
from imajin.assistant.goals import CUSTOM_GROUP, extraction_answer_type, known_goals, resolve_goals
from imajin.assistant.instance import load_instance_file, parse_instance
from imajin.config.assistant import AssistantSettings
from imajin.llm import LLMRegistry, LLMSettings, ModelDefinition
from imajin.store.database import Database
from tests.assistant.conftest import EXAMPLES, example_instance


def test_the_examples_are_valid_instances() -> None:
    for path in sorted(EXAMPLES.glob("*.yaml")):
        instance = load_instance_file(path)
        assert instance.factor_weights and instance.extraction_goals


def test_imajin_knows_25_goals_in_six_groups() -> None:
    goals = known_goals()

    assert len(goals) == 25
    assert set(goals.values()) == {
        "essential",
        "audience",
        "dynamics",
        "aesthetic",
        "composition",
        "specificity",
    }


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"factorWeights": {"cultural": -0.1}}, "instanceConfig.factorWeights.cultural"),
        ({"factorWeights": {}}, "instanceConfig.factorWeights"),
        ({"extractionGoals": []}, "instanceConfig.extractionGoals"),
        ({"extractionGoals": ["style", "style"]}, "instanceConfig.extractionGoals"),
        ({"extractionGoals": ["reasoning"]}, "instanceConfig.extractionGoals"),
        ({"maturityPolicy": None}, "instanceConfig.maturityPolicy"),
        ({"thresholds": {"x": [1]}}, "instanceConfig.thresholds.x"),
        ({"surprise": 1}, "instanceConfig.surprise"),
    ],
)
def test_invalid_instances_name_the_key(change: dict[str, Any], field: str) -> None:
    data = {**example_instance(), **change}

    with pytest.raises(InvalidInstanceConfig) as raised:
        parse_instance(data, field="instanceConfig")

    assert raised.value.field is not None and raised.value.field.startswith(field)


def test_goals_are_grouped_and_new_goals_need_a_description() -> None:
    instance = InstanceConfig.model_validate(
        {
            **example_instance(),
            "extractionGoals": [
                "lighting_style",
                "style",
                {"name": "style_era", "description": "The era the style evokes.", "group": "era"},
                {"name": "frame", "description": "Frame.", "allowedValues": ["none", "gold"]},
                {"name": "dominant_mood", "description": "The mood, in one word."},
            ],
        }
    )

    groups = resolve_goals(instance.extraction_goals)

    assert [(g.name, [goal.name for goal in g.goals]) for g in groups] == [
        ("essential", ["style"]),
        ("aesthetic", ["dominant_mood"]),
        ("specificity", ["lighting_style"]),
        ("era", ["style_era"]),
        (CUSTOM_GROUP, ["frame"]),
    ]
    assert groups[1].goals[0].description == "The mood, in one word."
    schema = extraction_answer_type(groups[-1]).model_json_schema()
    assert schema["properties"]["frame"]["enum"] == ["none", "gold"]

    unknown = InstanceConfig.model_validate({**example_instance(), "extractionGoals": ["vibe"]})
    with pytest.raises(InvalidInstanceConfig, match="give it a description"):
        resolve_goals(unknown.extraction_goals)
    regrouped = InstanceConfig.model_validate(
        {**example_instance(), "extractionGoals": [{"name": "style", "group": "custom"}]}
    )
    with pytest.raises(InvalidInstanceConfig, match="only new goals may name a group"):
        resolve_goals(regrouped.extraction_goals)


def scripted_registry() -> LLMRegistry:
    settings = LLMSettings(
        default_model="tiny", models={"tiny": ModelDefinition(backend="scripted")}
    )
    return LLMRegistry(settings, prompt_guard=prompt_guard(AssistantSettings()))


def test_build_assistant_from_settings(database: Database, tmp_path: Path) -> None:
    (tmp_path / "instances").mkdir()
    (tmp_path / "instances" / "seo.yaml").write_text((EXAMPLES / "seo.yaml").read_text())
    settings = AssistantSettings(
        instances={"seo": Path("instances/seo.yaml"), "gallery": example_instance("gallery")},
        default_instance="gallery",
    )

    service = build_assistant(
        settings=settings,
        llm=scripted_registry(),
        database=database,
        data_dir=tmp_path,
        base_dir=tmp_path,
    )

    assert service.instances.names == ["gallery", "seo"]
    assert service.instances.resolve(None, None).instance_name == "gallery"
    assert [p.id for p in service.list_pipelines()] == ["error-pages", "seo-location"]
    assert llm_health(service) == {
        "llm": {
            "model": "tiny",
            "backend": "scripted",
            "detail": "scripted",
            "models": {"tiny": "scripted"},
        }
    }


def test_invalid_instance_settings_fail_at_start_naming_the_key(
    database: Database, tmp_path: Path
) -> None:
    broken = {**example_instance(), "factorWeights": {"cultural": 2}}
    settings = AssistantSettings(instances={"seo": broken})
    with pytest.raises(AssistantConfigError) as raised:
        build_assistant(
            settings=settings, llm=scripted_registry(), database=database, data_dir=tmp_path
        )
    assert raised.value.field == "assistant.instances.seo"

    settings = AssistantSettings(instances={"seo": tmp_path / "missing.yaml"})
    with pytest.raises(AssistantConfigError, match=r"missing\.yaml"):
        build_assistant(
            settings=settings, llm=scripted_registry(), database=database, data_dir=tmp_path
        )
    with pytest.raises(ValidationError, match="default_instance 'seo' is not defined"):
        AssistantSettings(default_instance="seo")
