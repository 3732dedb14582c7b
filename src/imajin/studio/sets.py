"""Card sets: a YAML entry plus a CSV file, each CSV row one image (SPEC §5).

Loading checks everything a batch will need, so a broken set fails when it is
read — naming the set, the row and the field — rather than halfway through a
batch. The prompt of a row is, in this order: the set's base prompt, the
user's theme, the template filled from the row, the style suffix.
"""

from __future__ import annotations

import csv
import re
import string
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from imajin.engine.request import MAX_PROMPT, LoraRequest, field_path
from imajin.studio.errors import SetInvalid

SET_NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
NEGATIVE_COLUMN = "negative_prompt"
"""An optional CSV column: a row's own negative terms, added after the set's."""

_SLUG_JUNK = re.compile(r"[^a-z0-9]+")


class SetEntry(BaseModel):
    """A set's YAML entry, as an operator writes it."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=SET_NAME_PATTERN, description="Slug: a-z, 0-9, '_' and '-'.")
    description: str = Field("", max_length=2000)
    csv_path: str = Field(min_length=1, description="The rows; relative to the YAML file.")
    base_prompt: str = Field("", max_length=MAX_PROMPT)
    prompt_template: str = Field(min_length=1, max_length=MAX_PROMPT)
    style_suffix: str = Field("", max_length=MAX_PROMPT)
    example_theme: str = Field("", max_length=500)
    width: int = Field(512, ge=64, le=4096, description="Pixels; a multiple of 8.")
    height: int = Field(512, ge=64, le=4096, description="Pixels; a multiple of 8.")
    negative_prompt: str | None = Field(None, max_length=MAX_PROMPT)
    loras: list[LoraRequest] = Field(default_factory=list, max_length=8)
    item_column: str | None = Field(
        None, description="Column naming each item; default `name` if present, else the first."
    )
    model: str | None = Field(None, description="Model for this set; default studio.defaults.")

    @field_validator("width", "height")
    @classmethod
    def _multiple_of_8(cls, value: int) -> int:
        if value % 8:
            low = value - value % 8
            raise ValueError(
                f"must be a multiple of 8 (got {value}); the nearest valid values are "
                f"{low} and {low + 8}"
            )
        return value


@dataclass(frozen=True)
class SetRow:
    """One CSV row: its position, item name, file-name slug and cells."""

    index: int
    item: str
    slug: str
    values: Mapping[str, str]


@dataclass(frozen=True)
class CardSet:
    """A loaded, checked set."""

    entry: SetEntry
    columns: tuple[str, ...]
    rows: tuple[SetRow, ...]
    source: Path

    @property
    def name(self) -> str:
        return self.entry.name

    def prompt(self, row: SetRow, theme: str) -> str:
        """Base prompt, theme, filled template, style suffix — empty parts left out."""
        filled = self.entry.prompt_template.format_map(dict(row.values))
        parts = (self.entry.base_prompt, theme, filled, self.entry.style_suffix)
        return ", ".join(part.strip() for part in parts if part.strip())

    def negative_prompt(self, row: SetRow) -> str | None:
        """The set's negative prompt plus the row's own terms, or None when both are empty."""
        parts = (self.entry.negative_prompt or "", row.values.get(NEGATIVE_COLUMN, ""))
        joined = ", ".join(part.strip() for part in parts if part.strip())
        return joined or None


def read_set_file(path: Path) -> Iterator[dict[str, Any] | SetInvalid]:
    """The raw entries of a YAML file (one entry, or ``sets:`` with a list), or its error."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        yield SetInvalid(path.name, f"cannot read {path}: {exc}", field="yaml")
        return
    entries = data.get("sets") if isinstance(data, dict) and "sets" in data else [data]
    if not isinstance(entries, list):
        yield SetInvalid(path.name, "`sets:` must be a list of set entries", field="sets")
        return
    for index, entry in enumerate(entries):
        if isinstance(entry, dict):
            yield entry
        else:
            yield SetInvalid(path.name, f"entry {index} is not a mapping", field="sets")


def load_set(
    raw: Mapping[str, Any], *, source: Path, lora_dirs: Sequence[Path], max_items: int
) -> CardSet:
    """Check one YAML entry and read its CSV.

    Args:
        raw: The entry as parsed from YAML.
        source: The YAML file (relative paths start from its folder).
        lora_dirs: Folders searched for LoRA ids and relative LoRA paths.
        max_items: Most rows a set may have.

    Raises:
        SetInvalid: naming the set, the row (for CSV problems) and the field.
    """
    label = str(raw.get("name") or source.name)
    try:
        entry = SetEntry.model_validate(dict(raw))
    except ValidationError as exc:
        error = exc.errors()[0]
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown field (check its spelling)"
        raise SetInvalid(label, message, field=field_path(tuple(error["loc"]))) from None
    placeholders = _placeholders(entry)
    columns, rows = _read_rows(entry, source.parent / entry.csv_path, max_items=max_items)
    missing = [name for name in placeholders if name not in columns]
    if missing:
        raise SetInvalid(
            entry.name,
            f"placeholder {{{missing[0]}}} names no CSV column; columns: {', '.join(columns)}",
            field="prompt_template",
        )
    loras = [
        _resolved_lora(entry, index, lora, source.parent, lora_dirs)
        for index, lora in enumerate(entry.loras)
    ]
    entry = entry.model_copy(update={"loras": loras})
    card_set = CardSet(
        entry=entry, columns=columns, rows=_items(entry, columns, rows), source=source
    )
    _check_rows(card_set, placeholders)
    return card_set


def _placeholders(entry: SetEntry) -> list[str]:
    names = []
    try:
        parsed = list(string.Formatter().parse(entry.prompt_template))
    except ValueError as exc:
        raise SetInvalid(
            entry.name, f"{exc} (write {{{{ and }}}} for braces)", field="prompt_template"
        ) from None
    for _text, name, spec, conversion in parsed:
        if name is None:
            continue
        # Only plain column names: `{a.b}` or `{a[0]}` would reach into Python objects.
        if not name.isidentifier() or spec or conversion:
            raise SetInvalid(
                entry.name,
                f"placeholder {{{name}{'!' + conversion if conversion else ''}"
                f"{':' + spec if spec else ''}}} must be a plain column name like {{rank}}",
                field="prompt_template",
            )
        names.append(name)
    return names


def _read_rows(
    entry: SetEntry, path: Path, *, max_items: int
) -> tuple[tuple[str, ...], list[dict[str, str]]]:
    if not path.is_file():
        raise SetInvalid(entry.name, f"CSV file {path} does not exist", field="csv_path")
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle)
            header = [cell.strip() for cell in next(reader, [])]
            records = [
                (reader.line_num, cells) for cells in reader if any(c.strip() for c in cells)
            ]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise SetInvalid(entry.name, f"cannot read {path.name}: {exc}", field="csv_path") from None
    if not header or any(not name for name in header):
        raise SetInvalid(
            entry.name,
            f"{path.name} needs a header row naming every column",
            field="csv_path",
            row=0,
        )
    if len(set(header)) != len(header):
        raise SetInvalid(entry.name, f"{path.name} repeats a column name", field="csv_path", row=0)
    if not records:
        raise SetInvalid(entry.name, f"{path.name} has no data rows", field="csv_path")
    if len(records) > max_items:
        raise SetInvalid(
            entry.name,
            f"{len(records)} rows is more than studio.max_batch_items ({max_items})",
            field="csv_path",
        )
    rows = []
    for number, (line, cells) in enumerate(records, start=1):
        if len(cells) != len(header):
            raise SetInvalid(
                entry.name,
                f"line {line} has {len(cells)} cells but the header names {len(header)} columns",
                field="csv_path",
                row=number,
            )
        rows.append({name: cell.strip() for name, cell in zip(header, cells, strict=True)})
    return tuple(header), rows


def _items(
    entry: SetEntry, columns: tuple[str, ...], rows: list[dict[str, str]]
) -> tuple[SetRow, ...]:
    item_column = entry.item_column or ("name" if "name" in columns else columns[0])
    if item_column not in columns:
        raise SetInvalid(
            entry.name,
            f"{item_column!r} is not a CSV column; columns: {', '.join(columns)}",
            field="item_column",
        )
    seen: dict[str, int] = {}
    items = []
    for number, values in enumerate(rows, start=1):
        slug = slugify(values[item_column])
        if not slug:
            raise SetInvalid(
                entry.name,
                f"column {item_column!r} must name the item with letters or digits "
                f"(got {values[item_column]!r})",
                field=item_column,
                row=number,
            )
        if slug in seen:
            raise SetInvalid(
                entry.name,
                f"item {values[item_column]!r} repeats row {seen[slug]} (file names must differ)",
                field=item_column,
                row=number,
            )
        seen[slug] = number
        items.append(SetRow(index=number - 1, item=values[item_column], slug=slug, values=values))
    return tuple(items)


def _check_rows(card_set: CardSet, placeholders: Sequence[str]) -> None:
    for row in card_set.rows:
        for name in placeholders:
            if not row.values[name]:
                raise SetInvalid(
                    card_set.name,
                    f"empty, but the prompt template uses {{{name}}}",
                    field=name,
                    row=row.index + 1,
                )
        prompt = card_set.prompt(row, card_set.entry.example_theme)
        if len(prompt) > MAX_PROMPT:
            raise SetInvalid(
                card_set.name,
                f"the prompt is {len(prompt)} characters; the most is {MAX_PROMPT}",
                field="prompt_template",
                row=row.index + 1,
            )


def _resolved_lora(
    entry: SetEntry, index: int, lora: LoraRequest, base: Path, lora_dirs: Sequence[Path]
) -> LoraRequest:
    """The LoRA with an absolute path, so jobs do not depend on where they run from."""
    found = find_lora_file(lora, base=base, lora_dirs=lora_dirs)
    if found is None:
        field = f"loras[{index}].{'path' if lora.path is not None else 'id'}"
        # The message reaches HTTP clients (a set that does not load): no server folders in it.
        raise SetInvalid(
            entry.name,
            f"unknown LoRA {lora.reference!r}: no such .safetensors file next to the set file "
            "or in the LoRA folders (<data_dir>/models/loras, <data_dir>/models, "
            "engine.lora_dirs)",
            field=field,
        )
    return LoraRequest(path=str(found), weight=lora.weight)


def find_lora_file(lora: LoraRequest, *, base: Path, lora_dirs: Sequence[Path]) -> Path | None:
    """The ``.safetensors`` file a LoRA names: an absolute path, a path relative to
    ``base`` or a LoRA folder, or an id (file stem) in a LoRA folder; None if there is none."""
    if lora.path is not None:
        path = Path(lora.path).expanduser()
        candidates = [path] if path.is_absolute() else [base / path, *(d / path for d in lora_dirs)]
    else:
        candidates = [folder / f"{lora.id}.safetensors" for folder in lora_dirs]
    for candidate in candidates:
        if candidate.suffix == ".safetensors" and candidate.is_file():
            return candidate.resolve()
    return None


def slugify(value: str) -> str:
    """A file-name-safe slug of ASCII letters and digits: ``"Bélier ♈"`` → ``belier``."""
    ascii_text = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    return _SLUG_JUNK.sub("-", ascii_text.lower()).strip("-")[:80].rstrip("-")
