"""Card sets: the shipped examples, prompt order, and every loading error (SPEC §5)."""

from __future__ import annotations

from pathlib import Path

import pytest

from imajin.errors import NotFound
from imajin.safety import enforce
from imajin.studio.catalog import SetCatalog, shipped_sets_dir
from imajin.studio.errors import SetInvalid
from imajin.studio.sets import slugify
from tests.studio.conftest import MINI_CSV, MINI_YAML, write_set


def catalog(*folders: Path, lora_dirs: tuple[Path, ...] = (), max_items: int = 500) -> SetCatalog:
    return SetCatalog(directories=list(folders), lora_dirs=list(lora_dirs), max_items=max_items)


def test_shipped_sets_load_with_their_sizes() -> None:
    sets = {s.name: s for s in catalog(shipped_sets_dir()).list()}
    assert {name: len(s.rows) for name, s in sets.items()} == {
        "playing-cards": 54,
        "tarot": 22,
        "zodiac": 12,
    }
    cards = sets["playing-cards"]
    assert "layout" in cards.columns
    seven = next(row for row in cards.rows if row.item == "Seven of Hearts")
    assert "two columns of three" in seven.values["layout"]
    assert {row.item for row in cards.rows} >= {"Red Joker", "Black Joker", "King of Clubs"}
    assert [row.item for row in sets["tarot"].rows][::21] == ["The Fool", "The World"]
    for card_set in sets.values():
        assert card_set.entry.description and card_set.entry.example_theme
        assert card_set.entry.width % 8 == 0 and card_set.entry.height % 8 == 0


def test_every_shipped_prompt_passes_the_safety_policy() -> None:
    for card_set in catalog(shipped_sets_dir()).list():
        for row in card_set.rows:
            enforce(card_set.prompt(row, card_set.entry.example_theme), field="prompt")


def test_prompt_order_is_base_theme_template_suffix(tmp_path: Path) -> None:
    write_set(tmp_path, "mini", MINI_YAML, MINI_CSV)
    mini = catalog(tmp_path).get("mini")
    alpha, beta, _ = mini.rows
    assert mini.prompt(alpha, "art nouveau, gold leaf") == (
        "a flat icon, art nouveau, gold leaf, Alpha Circle made of glass, clean vector style"
    )
    assert mini.prompt(alpha, "  ") == "a flat icon, Alpha Circle made of glass, clean vector style"
    # The set's negative prompt, then the row's own column when it has one.
    assert mini.negative_prompt(alpha) == "text, watermark"
    assert mini.negative_prompt(beta) == "text, watermark, knots"
    assert (alpha.index, alpha.item, alpha.slug) == (0, "Alpha Circle", "alpha-circle")


def test_operator_sets_replace_shipped_ones_of_the_same_name(tmp_path: Path) -> None:
    write_set(tmp_path, "mini", MINI_YAML.replace("name: mini", "name: tarot"), MINI_CSV)
    replaced = catalog(shipped_sets_dir(), tmp_path).get("tarot")
    assert len(replaced.rows) == 3 and replaced.source.parent == tmp_path


def test_a_yaml_file_may_hold_several_sets(tmp_path: Path) -> None:
    (tmp_path / "mini.csv").write_text(MINI_CSV, encoding="utf-8")
    entry = MINI_YAML.replace("\n", "\n    ")
    (tmp_path / "both.yaml").write_text(
        f"sets:\n  - {entry}\n  - {entry.replace('name: mini', 'name: mini-two')}\n",
        encoding="utf-8",
    )
    assert [s.name for s in catalog(tmp_path).list()] == ["mini", "mini-two"]


def test_unknown_set_is_not_found() -> None:
    with pytest.raises(NotFound) as raised:
        catalog(shipped_sets_dir()).get("nope")
    assert raised.value.message == "No set named 'nope'; sets: playing-cards, tarot, zodiac."


BROKEN = [
    # (what to change in the YAML / CSV, field, row, words in the message)
    ({"csv_path: mini.csv": "csv_path: gone.csv"}, None, "csv_path", None, "does not exist"),
    ({"{material}": "{colour}"}, None, "prompt_template", None, "{colour} names no CSV column"),
    ({"{material}": "{material.upper}"}, None, "prompt_template", None, "plain column name"),
    ({"{material}": "{material!r}"}, None, "prompt_template", None, "plain column name"),
    ({"{material}": "{}"}, None, "prompt_template", None, "plain column name"),
    ({"{material}": "{material"}, None, "prompt_template", None, "braces"),
    ({"width: 64": "width: 500"}, None, "width", None, "multiple of 8 (got 500)"),
    ({"height: 64": "height: 20"}, None, "height", None, "greater than or equal to 64"),
    ({"width: 64": "width: big"}, None, "width", None, "valid integer"),
    ({"name: mini": "name: Mini Set!"}, None, "name", None, "pattern"),
    ({"example_theme:": "colour_scheme:"}, None, "colour_scheme", None, "unknown field"),
    (
        {"negative_prompt:": "item_column: kind\nnegative_prompt:"},
        None,
        "item_column",
        None,
        "'kind'",
    ),
    (
        {"width: 64": "width: 64\nloras: [{path: missing.safetensors, weight: 0.8}]"},
        None,
        "loras[0].path",
        None,
        "unknown LoRA 'missing.safetensors'",
    ),
    (
        {"width: 64": "width: 64\nloras: [{id: no-such-lora}]"},
        None,
        "loras[0].id",
        None,
        "unknown LoRA 'no-such-lora'",
    ),
    (None, {"Beta Square,wood": "Beta Square,"}, "material", 2, "empty, but the prompt template"),
    (None, {"Gamma Star,brass,": "Gamma Star,brass"}, "csv_path", 3, "has 2 cells"),
    (None, {"Gamma Star": "Alpha Circle"}, "name", 3, "repeats row 1"),
    (None, {"Gamma Star": "★★"}, "name", 3, "letters or digits"),
    (
        None,
        {"name,material,negative_prompt": "name,name,negative_prompt"},
        "csv_path",
        0,
        "repeats a column",
    ),
    (
        None,
        {"Alpha Circle,glass,\n": "", "Beta Square,wood,knots\n": "", "Gamma Star,brass,\n": ""},
        "csv_path",
        None,
        "no data rows",
    ),
]


@pytest.mark.parametrize(("yaml_edits", "csv_edits", "field", "row", "words"), BROKEN)
def test_each_loading_error_names_the_set_row_and_field(
    tmp_path: Path,
    yaml_edits: dict[str, str] | None,
    csv_edits: dict[str, str] | None,
    field: str,
    row: int | None,
    words: str,
) -> None:
    yaml_text, csv_text = MINI_YAML, MINI_CSV
    for old, new in (yaml_edits or {}).items():
        yaml_text = yaml_text.replace(old, new)
    for old, new in (csv_edits or {}).items():
        csv_text = csv_text.replace(old, new)
    write_set(tmp_path, "mini", yaml_text, csv_text)
    loaded = catalog(tmp_path, lora_dirs=(tmp_path / "loras",)).load()
    assert loaded.sets == {}
    (problem,) = loaded.problems.values()
    assert problem.field == field
    assert problem.row == row
    assert words in problem.message
    assert problem.message.startswith(f"set '{problem.set_name}'")
    if row is not None:
        assert f", row {row}, field `{field}`" in problem.message


def test_a_broken_set_hides_no_other_and_raises_when_asked_for(tmp_path: Path) -> None:
    write_set(tmp_path, "mini", MINI_YAML, MINI_CSV)
    bad = MINI_YAML.replace("name: mini", "name: bad").replace("mini.csv", "bad.csv")
    write_set(tmp_path, "bad", bad, None)
    found = catalog(tmp_path)
    assert [s.name for s in found.list()] == ["mini"]
    with pytest.raises(SetInvalid) as raised:
        found.get("bad")
    assert raised.value.to_dict()["set"] == "bad"
    assert raised.value.field == "csv_path"


def test_lora_paths_resolve_next_to_the_set_or_by_id(tmp_path: Path) -> None:
    loras = tmp_path / "loras"
    loras.mkdir()
    (loras / "ink.safetensors").write_bytes(b"x")
    (tmp_path / "local.safetensors").write_bytes(b"x")
    yaml_text = MINI_YAML + "loras:\n  - {path: local.safetensors, weight: 0.5}\n  - {id: ink}\n"
    write_set(tmp_path, "mini", yaml_text, MINI_CSV)
    mini = catalog(tmp_path, lora_dirs=(loras,)).get("mini")
    assert [(lora.path, lora.weight) for lora in mini.entry.loras] == [
        (str((tmp_path / "local.safetensors").resolve()), 0.5),
        (str((loras / "ink.safetensors").resolve()), 1.0),
    ]


def test_too_many_rows_is_an_error(tmp_path: Path) -> None:
    write_set(tmp_path, "mini", MINI_YAML, MINI_CSV)
    with pytest.raises(SetInvalid, match=r"3 rows is more than studio.max_batch_items \(2\)"):
        catalog(tmp_path, max_items=2).get("mini")


@pytest.mark.parametrize(
    ("value", "slug"),
    [("Ace of Spades", "ace-of-spades"), ("Bélier ♈", "belier"), ("  --X--  ", "x"), ("♠", "")],
)
def test_slugify(value: str, slug: str) -> None:
    assert slugify(value) == slug
