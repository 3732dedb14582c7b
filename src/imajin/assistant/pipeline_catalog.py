"""Prompt pipelines as data files (SPEC §4.1): the schema and the catalogue.

A pipeline turns inputs and one permutation of its data into a brief, and asks
the LLM to expand the brief into an image prompt. The shipped files live in
``imajin/assistant/pipelines/``; operators add theirs to ``<data_dir>/pipelines/``
(a file with a shipped id replaces it). Files are re-read when they change.
"""

from __future__ import annotations

import threading
from importlib.resources import files
from pathlib import Path

from imajin.assistant.data_files import parse_data_file
from imajin.assistant.errors import AssistantConfigError, PipelineNotFound
from imajin.contracts.assistant import (
    PipelineInput,
    PipelineOutput,
    PipelineSpec,
    PipelineSummary,
)

__all__ = [
    "PipelineCatalog",
    "PipelineInput",
    "PipelineOutput",
    "PipelineSpec",
    "PipelineSummary",
]


def parse_pipeline(text: str, where: str) -> PipelineSpec:
    """Validate one pipeline file's text.

    Raises:
        AssistantConfigError: Not YAML, or not a valid pipeline (the file is named).
    """
    return parse_data_file(text, PipelineSpec, what=f"Pipeline file {where}")


class PipelineCatalog:
    """The shipped pipelines plus the operator's, re-read when a file changes.

    Args:
        operator_dir: Where operators put pipeline files; need not exist.

    Raises:
        AssistantConfigError: A file is invalid, or two operator files share an id.
    """

    def __init__(self, *, operator_dir: Path | None) -> None:
        self.operator_dir = operator_dir
        self._lock = threading.Lock()
        self._parsed: dict[Path, tuple[float, PipelineSpec]] = {}
        self.shipped = _shipped()
        self.all()  # fail at start-up on a broken file, not on the first request

    def all(self) -> dict[str, PipelineSpec]:
        """Every pipeline by id, sorted by id.

        Raises:
            AssistantConfigError: An operator file is invalid or repeats another's id.
        """
        pipelines = dict(self.shipped)
        seen: dict[str, Path] = {}
        for path in self._operator_files():
            spec = self._parse(path)
            if spec.id in seen:
                raise AssistantConfigError(
                    f"Pipeline files {seen[spec.id]} and {path} both have id {spec.id!r}; "
                    "rename one."
                )
            seen[spec.id] = path
            pipelines[spec.id] = spec
        return dict(sorted(pipelines.items()))

    def get(self, pipeline_id: str) -> PipelineSpec:
        """The pipeline with id ``pipeline_id``.

        Raises:
            PipelineNotFound: No such pipeline; the message lists the ids there are.
        """
        pipelines = self.all()
        if pipeline_id not in pipelines:
            raise PipelineNotFound(
                # Over HTTP: name the setting, never the server's folder.
                f"No pipeline {pipeline_id!r}; available: {', '.join(pipelines)}. Operators add "
                "pipeline files to the folder `assistant.pipelines_dir` names "
                "(default <data_dir>/pipelines).",
                field="pipelineId",
            )
        return pipelines[pipeline_id]

    def _operator_files(self) -> list[Path]:
        if self.operator_dir is None or not self.operator_dir.is_dir():
            return []
        return sorted(
            path
            for pattern in ("*.yaml", "*.yml")
            for path in self.operator_dir.glob(pattern)
            if path.is_file()
        )

    def _parse(self, path: Path) -> PipelineSpec:
        mtime = path.stat().st_mtime
        with self._lock:
            cached = self._parsed.get(path)
            if cached is not None and cached[0] == mtime:
                return cached[1]
        spec = parse_pipeline(path.read_text(encoding="utf-8"), str(path))
        with self._lock:
            self._parsed[path] = (mtime, spec)
        return spec


def _shipped() -> dict[str, PipelineSpec]:
    folder = files("imajin.assistant").joinpath("pipelines")
    shipped = {}
    for entry in sorted(folder.iterdir(), key=lambda item: item.name):
        if entry.name.endswith((".yaml", ".yml")):
            spec = parse_pipeline(
                entry.read_text(encoding="utf-8"), f"imajin/assistant/pipelines/{entry.name}"
            )
            shipped[spec.id] = spec
    return shipped
