"""LoRA training for HTTP callers: the training area's folders, defaults, and launching a run.

Everything a request names stays inside the training area (``<data_dir>/training``):
folders are listed and accepted by the same :func:`~imajin.storage.paths.confine_path`
rule, uploads are written to a new folder of ``uploads/`` only once every image
decodes, and a base is a model id or style (never a path). The run itself is a
``train_lora`` job (:mod:`imajin.training.handler`); its progress events carry the loss.
"""

from __future__ import annotations

import base64
import binascii
import io
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from PIL import Image, UnidentifiedImageError
from pydantic import ValidationError

from imajin.config.training import TrainingSettings
from imajin.contracts.training import TrainingCreate, TrainingDefaults, TrainingFolder
from imajin.engine.confined import confined_lora
from imajin.engine.registry import ModelRegistry
from imajin.engine.request import LoraRequest
from imajin.errors import Conflict, InvalidInput, NotFound
from imajin.jobs.models import Job
from imajin.jobs.service import JobService
from imajin.storage.paths import MAX_DEPTH, UnsafePath, confine_path
from imajin.training.dataset import CAPTION_SUFFIX, IMAGE_SUFFIXES
from imajin.training.handler import training_job

# The families the trainer has text encoders for (training/prepare.py TEXT_ENCODERS, which
# imports torch; a test keeps the two equal).
TRAINABLE_FAMILIES = ("sd15", "sdxl")
UPLOADS = "uploads"
MAX_FOLDERS = 500


class TrainingService:
    """Lists training folders, says the defaults, and queues ``train_lora`` jobs.

    Args:
        jobs: Where runs are queued.
        models: Resolves a request's base (ids and styles only).
        root: The training area (``<data_dir>/training``).
        lora_dirs: The LoRA folders, where an output name must not be taken yet.
        defaults: The configured ``training:`` settings.
    """

    def __init__(
        self,
        *,
        jobs: JobService,
        models: ModelRegistry,
        root: Path,
        lora_dirs: list[Path],
        defaults: TrainingSettings,
    ) -> None:
        self._jobs = jobs
        self._models = models
        self._root = root
        self._lora_dirs = lora_dirs
        self._defaults = defaults

    def folders(self) -> list[TrainingFolder]:
        """Every folder under the training area holding images, by path (symlinks out: no)."""
        if not self._root.is_dir():
            return []
        found = [_describe(folder, rel) for folder, rel in self._walk(self._root, "")]
        return [entry for entry in found if entry.images > 0][:MAX_FOLDERS]

    def defaults(self) -> TrainingDefaults:
        trainable = [s.id for s in self._models.specs() if s.family in TRAINABLE_FAMILIES]
        fields = TrainingSettings.model_fields
        return TrainingDefaults(
            settings=self._defaults.model_dump(mode="json"),
            descriptions={name: info.description or "" for name, info in fields.items()},
            bases=trainable,
            default_base=trainable[0] if trainable else None,
        )

    def submit(self, request: TrainingCreate) -> Job:
        """Queue a run on a listed folder or on uploaded images (written only if all decode).

        Raises:
            NotFound: The base or the folder does not exist.
            InvalidInput: A base that cannot be trained, a bad setting, an undecodable image.
            UnsafePath: A folder name that leaves the training area.
            Conflict: A LoRA with the output's id exists already.
        """
        spec = self._models.resolve(request.base, allow_paths=False)
        if spec.family not in TRAINABLE_FAMILIES:
            raise InvalidInput(
                f"`base`: {spec.id!r} is {spec.family}; LoRA training takes SD 1.5 or SDXL "
                f"models ({', '.join(self.defaults().bases) or 'none configured'})",
                field="base",
            )
        overrides = request.overrides.model_dump(exclude_none=True)
        self._check_overrides(overrides)
        if confined_lora(LoraRequest(id=request.output), lora_dirs=self._lora_dirs) is not None:
            raise Conflict(
                f"`output`: a LoRA named {request.output!r} exists already; choose another name",
                field="output",
            )
        folder = request.folder
        data = self._folder(folder) if folder is not None else self._upload(request)
        return self._jobs.submit(
            training_job(
                data=data,
                base=spec.id,
                output=request.output,
                overrides=overrides,
                resume=request.resume,
            )
        )

    def _walk(self, folder: Path, rel: str) -> Iterator[tuple[Path, str]]:
        if rel.count("/") + 1 > MAX_DEPTH:
            return
        try:
            children = sorted(p for p in folder.iterdir() if p.is_dir())
        except OSError:
            return
        for child in children:
            name = f"{rel}/{child.name}" if rel else child.name
            try:
                confine_path(self._root, name, field="folder")  # hidden, odd names, escapes
            except UnsafePath:
                continue
            yield child, name
            yield from self._walk(child, name)

    def _folder(self, name: str) -> str:
        folder = confine_path(self._root, name, field="folder")
        if not folder.is_dir():
            raise NotFound(
                f"`folder`: no training folder {name!r} in the training area; "
                "GET /api/training/folders lists them",
                field="folder",
            )
        return name

    def _check_overrides(self, overrides: dict[str, Any]) -> None:
        try:
            TrainingSettings.model_validate({**self._defaults.model_dump(), **overrides})
        except ValidationError as exc:
            error = exc.errors()[0]
            field = ".".join(["overrides", *(str(part) for part in error["loc"])])
            raise InvalidInput(f"`{field}`: {error['msg']}", field=field) from exc

    def _upload(self, request: TrainingCreate) -> str:
        images = request.images or []
        decoded: list[tuple[str, bytes, str]] = []
        seen: set[str] = set()
        for index, image in enumerate(images):
            field = f"images[{index}]"
            stem = Path(image.name).stem.lower()
            if stem in seen:  # photo.png and photo.jpg would share one caption file
                raise InvalidInput(f"`{field}.name`: a second image named {stem!r}", field=field)
            seen.add(stem)
            decoded.append(
                (image.name, _decode_image(image.image_base64, field=field), image.caption)
            )
        name = f"{UPLOADS}/{request.output}-{uuid.uuid4().hex[:8]}"
        final = confine_path(self._root, name, field="output")
        staging = final.with_name(f".{final.name}.partial")  # hidden: never listed
        staging.mkdir(parents=True)
        try:
            for file_name, data, caption in decoded:
                (staging / file_name).write_bytes(data)
                caption_file = staging / f"{Path(file_name).stem}{CAPTION_SUFFIX}"
                caption_file.write_text(caption.strip() + "\n", encoding="utf-8")
            staging.rename(final)
        except OSError:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return name


def _decode_image(text: str, *, field: str) -> bytes:
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidInput(f"`{field}.imageBase64` is not valid base64", field=field) from exc
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise InvalidInput(
            f"`{field}.imageBase64` is not an image PIL can read ({exc})", field=field
        ) from exc
    return data


def _describe(folder: Path, rel: str) -> TrainingFolder:
    images = [
        p
        for p in folder.iterdir()
        if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith(".")
    ]
    captioned = sum(1 for image in images if _has_caption(image))
    return TrainingFolder(
        path=rel,
        images=len(images),
        captioned=captioned,
        ready=bool(images) and captioned == len(images),
    )


def _has_caption(image: Path) -> bool:
    caption = image.with_suffix(CAPTION_SUFFIX)
    try:
        return caption.is_file() and bool(caption.read_text(encoding="utf-8").strip())
    except (OSError, UnicodeDecodeError):
        return False
