"""imajin.plugins: the one registry type behind LLM backends and face detectors."""

from __future__ import annotations

import pytest

from imajin.plugins import PluginRegistry


class Base:
    pass


class One(Base):
    pass


class Two(Base):
    pass


class Missing(Exception):
    pass


def registry() -> PluginRegistry[Base]:
    return PluginRegistry(Base, noun="thing", unknown=Missing, fix="Name one of those.")


def test_registered_classes_are_found_by_name_and_listed_sorted() -> None:
    things = registry()
    things.register("two", Two)
    things.register("one", One)
    things.register("one", One)  # the same class again is not a conflict
    assert things.get("one") is One
    assert things.names() == ["one", "two"]


def test_an_unknown_name_raises_the_registry_s_error_listing_the_names_and_the_fix() -> None:
    things = registry()
    things.register("one", One)
    with pytest.raises(
        Missing, match=r"^No thing 'three' — registered: one\. Name one of those\.$"
    ):
        things.get("three")


@pytest.mark.parametrize(
    ("name", "cls", "message"),
    [
        ("One", One, "Thing name 'One' is malformed"),
        ("one", int, "is not a Base subclass"),
        ("taken", Two, r"Thing 'taken' is already registered \(One\); pass replace=True"),
    ],
)
def test_bad_registrations_are_refused(name: str, cls: type, message: str) -> None:
    things = registry()
    things.register("taken", One)
    with pytest.raises(ValueError, match=message):
        things.register(name, cls)


def test_replace_overrides_a_taken_name() -> None:
    things = registry()
    things.register("taken", One)
    things.register("taken", Two, replace=True)
    assert things.get("taken") is Two
