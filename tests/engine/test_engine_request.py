"""Invalid input fails before any model loads, naming the field and the rule."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, get_args

import pytest

from imajin.contracts.generation import SchedulerName
from imajin.engine import IncompatibleLora
from imajin.engine.request import parse_request
from imajin.engine.schedulers import SAMPLERS
from imajin.errors import InvalidInput, NotFound


def test_scheduler_names_match_sampler_table() -> None:
    assert set(get_args(SchedulerName)) == set(SAMPLERS)
    for required in ("dpmpp_2m", "dpmpp_2m_karras", "euler", "euler_a", "ddim", "lcm"):
        assert required in SAMPLERS


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        ({"prompt": "x" * 2001}, "prompt", "2000"),
        ({"prompt": "   "}, "prompt", "empty"),
        ({"prompt": "a", "width": 100}, "width", "multiple of 8"),
        ({"prompt": "a", "height": 516}, "height", "512 and 520"),
        ({"prompt": "a", "width": 32}, "width", "64"),
        ({"prompt": "a", "steps": 0}, "steps", "greater than or equal to 1"),
        ({"prompt": "a", "steps": 101}, "steps", "100"),
        ({"prompt": "a", "guidance": 25}, "guidance", "20"),
        ({"prompt": "a", "seed": -1}, "seed", "0"),
        ({"prompt": "a", "scheduler": "k_lms"}, "scheduler", "dpmpp_2m"),
        ({"prompt": "a", "num_images": 0}, "num_images", "1"),
        (
            {"prompt": "a", "loras": [{"path": "a.safetensors", "id": "b"}]},
            "loras[0]",
            "exactly one",
        ),
        (
            {"prompt": "a", "loras": [{"path": "a.safetensors", "weight": 9}]},
            "loras[0].weight",
            "5",
        ),
        ({"prompt": "a", "loras": [{"id": "../etc/passwd"}]}, "loras[0].id", "without folders"),
        ({"prompt": "a", "colour": "red"}, "colour", "Extra"),
    ],
)
def test_validation_names_field_and_rule(data: dict[str, Any], field: str, words: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_request(data)
    assert caught.value.field == field
    assert caught.value.message.startswith(f"{field}:")
    assert words in caught.value.message


def test_plan_fills_model_defaults(make_engine: Callable[..., Any]) -> None:
    engine, _ = make_engine(refuse_loads=True)
    plan = engine.plan({"prompt": "a fox", "model": "anime"})
    assert plan.spec.id == "tiny-sdxl"
    assert (plan.width, plan.height, plan.steps, plan.scheduler) == (128, 128, 4, "euler_a")
    assert 0 <= plan.seed < 2**32
    assert plan.seed_of(1) == (plan.seed + 1) % 2**32


@pytest.mark.parametrize(
    ("data", "error", "field", "words"),
    [
        ({"model": "nope"}, NotFound, "model", "tiny-sd15"),
        ({"model": "tiny-sd3", "scheduler": "ddim"}, InvalidInput, "scheduler", "euler"),
        ({"loras": [{"path": "/no/such.safetensors"}]}, NotFound, "loras[0].path", "exist"),
        ({"loras": [{"id": "missing"}]}, NotFound, "loras[0].id", "tiny-sd15-a"),
        ({"loras": [{"path": "x.pt"}]}, InvalidInput, "loras[0].path", ".safetensors"),
        ({"loras": [{"id": "tiny-sdxl-a"}]}, IncompatibleLora, "loras[0]", "SDXL"),
    ],
)
def test_plan_errors_come_before_any_load(
    make_engine: Callable[..., Any],
    data: dict[str, Any],
    error: type[Exception],
    field: str,
    words: str,
) -> None:
    engine, _ = make_engine(refuse_loads=True)
    with pytest.raises(error) as caught:
        engine.generate({"prompt": "a fox", **data})
    assert caught.value.field == field  # type: ignore[attr-defined]
    assert words in caught.value.message  # type: ignore[attr-defined]


def test_a_file_that_is_not_a_lora_is_refused(
    make_engine: Callable[..., Any], tmp_path: Path
) -> None:
    engine, _ = make_engine(refuse_loads=True)
    fake = tmp_path / "fake.safetensors"
    fake.write_bytes(b"not safetensors at all")
    with pytest.raises(InvalidInput, match="not a readable"):
        engine.plan({"prompt": "a", "loras": [{"path": str(fake)}]})
