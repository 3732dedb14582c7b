"""Extraction goals: the catalogue in ``goals.yaml``, an instance's choice, and answer types.

An instance asks for goals by name; :func:`resolve_goals` sorts them into the
catalogue's groups (new goals go to their own group, ``custom`` by default), and
:func:`extraction_answer_type` builds the typed answer for one group's question.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from imajin.assistant.data_files import parse_data_file
from imajin.assistant.errors import InvalidInstanceConfig
from imajin.assistant.instance import GoalRequest
from imajin.safety.maturity import MaturityLevel

__all__ = ["CUSTOM_GROUP", "Goal", "GoalGroup", "extraction_answer_type", "resolve_goals"]

CUSTOM_GROUP = "custom"
GoalKind = Literal["text", "integer", "boolean", "maturity"]
_TEXT_CHARS = 120
_MOST_SUBJECTS = 50


class _CatalogueGoal(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: GoalKind
    description: str = Field(min_length=1)


class _CatalogueGroup(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    description: str = Field(min_length=1)
    goals: dict[str, _CatalogueGoal] = Field(min_length=1)


class _Catalogue(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    groups: dict[str, _CatalogueGroup] = Field(min_length=1)


@dataclass(frozen=True)
class Goal:
    """One goal to extract, as asked: its kind, description and any allowed values."""

    name: str
    kind: GoalKind
    description: str
    allowed_values: tuple[str, ...] | None = None


@dataclass(frozen=True)
class GoalGroup:
    """The goals of one group that an instance asked for, answered by one question."""

    name: str
    description: str
    goals: tuple[Goal, ...]

    def describe(self) -> list[dict[str, Any]]:
        """The goals as data for a question: name, what to decide, the allowed answers."""
        described = []
        for goal in self.goals:
            entry: dict[str, Any] = {"goal": goal.name, "decide": goal.description}
            if goal.allowed_values is not None:
                entry["allowedValues"] = list(goal.allowed_values)
            elif goal.kind != "text":
                entry["answer"] = goal.kind
            described.append(entry)
        return described


@cache
def _catalogue() -> _Catalogue:
    text = files("imajin.assistant").joinpath("goals.yaml").read_text(encoding="utf-8")
    return parse_data_file(text, _Catalogue, what="imajin/assistant/goals.yaml")


def known_goals() -> dict[str, str]:
    """Every catalogue goal's name with its group's name, in catalogue order."""
    return {
        goal: group_name
        for group_name, group in _catalogue().groups.items()
        for goal in group.goals
    }


def resolve_goals(requested: list[GoalRequest]) -> list[GoalGroup]:
    """Sort an instance's goals into groups: catalogue order first, then new groups.

    Raises:
        InvalidInstanceConfig: A goal is unknown and has no description, or a known goal
            is given a group.
    """
    catalogue = _catalogue()
    known = known_goals()
    chosen: dict[str, list[Goal]] = {name: [] for name in catalogue.groups}
    for index, request in enumerate(requested):
        field = f"instanceConfig.extractionGoals.{index}"
        if request.name in known:
            if request.group is not None and request.group != known[request.name]:
                raise InvalidInstanceConfig(
                    f"Goal {request.name!r} belongs to group {known[request.name]!r}; "
                    "only new goals may name a group.",
                    field=f"{field}.group",
                )
            group = known[request.name]
            entry = catalogue.groups[group].goals[request.name]
            kind, description = entry.kind, request.description or entry.description
        elif request.description is None:
            raise InvalidInstanceConfig(
                f"Goal {request.name!r} is not one imajin knows; give it a description "
                f"({{name: {request.name}, description: what to decide}}) or use a known goal: "
                f"{', '.join(known)}.",
                field=field,
            )
        else:
            group, kind, description = request.group or CUSTOM_GROUP, "text", request.description
        values = tuple(request.allowed_values) if request.allowed_values else None
        chosen.setdefault(group, []).append(Goal(request.name, kind, description, values))
    return [
        GoalGroup(name, _group_description(name), tuple(goals))
        for name, goals in chosen.items()
        if goals
    ]


def _group_description(name: str) -> str:
    group = _catalogue().groups.get(name)
    return group.description if group is not None else "Goals this instance defines itself."


def _answer_field(goal: Goal) -> tuple[Any, Any]:
    if goal.allowed_values is not None:
        # Literal of the instance's values: constrained decoding can only pick one of them.
        value_type: Any = Literal[goal.allowed_values]
        return value_type, Field(description=goal.description)
    if goal.kind == "integer":
        return int, Field(ge=0, le=_MOST_SUBJECTS, description=goal.description)
    if goal.kind == "boolean":
        return bool, Field(description=goal.description)
    if goal.kind == "maturity":
        return MaturityLevel, Field(description=goal.description)
    text = Annotated[str, Field(min_length=1, max_length=_TEXT_CHARS)]
    return text, Field(description=goal.description)


def extraction_answer_type(group: GoalGroup) -> type[BaseModel]:
    """The typed answer to one group's question: ``reasoning`` then one field per goal."""
    fields: dict[str, Any] = {
        "reasoning": (
            str,
            Field(max_length=300, description="How the goals follow from the context."),
        )
    }
    for goal in group.goals:
        fields[goal.name] = _answer_field(goal)
    model: type[BaseModel] = create_model(
        f"Extraction_{group.name}",
        __config__=ConfigDict(extra="forbid"),
        **fields,
    )
    return model
