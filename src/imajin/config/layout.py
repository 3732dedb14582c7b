"""Where imajin keeps its files under the data directory: one place names every path."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class DataLayout:
    """Every data path, derived from the data directory (``data_dir`` in the configuration)."""

    root: Path

    @property
    def database(self) -> Path:
        """The default SQLite file (used when ``database.url`` is empty)."""
        return self.root / "imajin.db"

    @property
    def images(self) -> Path:
        """Variation images (S3)."""
        return self.root / "images"

    @property
    def outputs(self) -> Path:
        """Studio batch outputs (S4)."""
        return self.root / "outputs"

    @property
    def models(self) -> Path:
        """Operator models, the operator manifest and loose LoRAs."""
        return self.root / "models"

    @property
    def manifest(self) -> Path:
        """The operator's model manifest, read over the shipped one."""
        return self.models / "manifest.yaml"

    @property
    def loras(self) -> Path:
        """Trained and installed LoRAs; a LoRA here is usable by id."""
        return self.models / "loras"

    @property
    def pipelines(self) -> Path:
        """Operator assistant pipelines (YAML), unless ``assistant.pipelines_dir`` is set."""
        return self.root / "pipelines"

    @property
    def sets(self) -> Path:
        """Operator studio sets (YAML + CSV), read after the shipped ones."""
        return self.root / "sets"

    @property
    def url_secret(self) -> Path:
        """The secret image URLs are signed with when auth is on (mode 0600; delete to rotate)."""
        return self.root / "url-signing.key"

    @property
    def cache(self) -> Path:
        """Derived data that may be deleted (file hashes)."""
        return self.root / "cache"

    @property
    def file_hashes(self) -> Path:
        return self.cache / "hashes.json"

    @property
    def training(self) -> Path:
        """Uploaded training images of LoRA training jobs."""
        return self.root / "training"

    def lora_dirs(self, extra: list[Path] | tuple[Path, ...] = ()) -> list[Path]:
        """Folders searched for LoRA ids, in order: ``models/loras``, ``models``, then ``extra``."""
        return [self.loras, self.models, *extra]
