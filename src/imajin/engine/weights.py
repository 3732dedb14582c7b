"""Find the weight files that identify a model, for its hash.

A single-file checkpoint is hashed whole (the hash other tools show for it);
a diffusers folder or hub repo by its denoiser's weight files (UNet or
transformer), which is what distinguishes one fine-tune from another.
"""

from __future__ import annotations

from pathlib import Path

from huggingface_hub import try_to_load_from_cache

from imajin.engine.sources import ModelSource
from imajin.engine.spec import ModelSpec

_DENOISERS = ("unet", "transformer")
_WEIGHT_GLOBS = ("*.safetensors", "*.bin")


def _folder_files(folder: Path) -> list[Path]:
    for component in _DENOISERS:
        sub = folder / component
        if sub.is_dir():
            files = [p for pattern in _WEIGHT_GLOBS for p in sub.glob(pattern)]
            if files:
                return sorted(files)
    return [folder / "model_index.json"] if (folder / "model_index.json").is_file() else []


def _cached(repo_id: str, filename: str, cache_dir: Path | None) -> Path | None:
    found = try_to_load_from_cache(
        repo_id, filename, cache_dir=str(cache_dir) if cache_dir else None
    )
    return Path(found) if isinstance(found, str) else None


def weight_files(source: ModelSource, *, cache_dir: Path | None) -> tuple[Path, list[Path]] | None:
    """The root folder and files to hash for ``source``, or None when not on disk."""
    if source.kind == "file":
        path = Path(source.location)
        return (path.parent, [path]) if path.is_file() else None
    if source.kind == "folder":
        folder = Path(source.location)
        files = _folder_files(folder)
        return (folder, files) if files else None
    if source.kind == "repo":
        index = _cached(source.location, "model_index.json", cache_dir)
        if index is None:
            return None
        files = _folder_files(index.parent)
        return (index.parent, files) if files else None
    # hub_file: https://huggingface.co/<owner>/<repo>/blob/<rev>/<path>
    parts = source.location.split("/blob/", 1)
    if len(parts) != 2:
        return None
    repo_id = parts[0].rsplit("/", 2)
    filename = parts[1].split("/", 1)[1] if "/" in parts[1] else parts[1]
    cached = _cached("/".join(repo_id[-2:]), filename, cache_dir)
    return (cached.parent, [cached]) if cached is not None else None


def is_downloaded(spec: ModelSpec, *, cache_dir: Path | None) -> bool:
    """Whether ``spec``'s weights are on disk: its local file or folder, or in the hub cache.

    A hub repo counts once its ``model_index.json`` and denoiser weights are cached
    (what a completed ``imajin models pull`` leaves); a partial download may still miss
    other components, which loading then names.
    """
    found = weight_files(spec.parsed_source, cache_dir=cache_dir)
    return found is not None and any(path.name != "model_index.json" for path in found[1])
