"""Load a pipeline for a model spec: one loader per family, any kind of source.

A loader turns a :class:`~imajin.engine.registry.ModelSpec` into a diffusers
pipeline from a hub repo, a hub or local single-file checkpoint, or a local
``save_pretrained`` folder; :func:`place_pipeline` then moves it to its device
and applies the memory options.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import diffusers
import torch
import transformers

from imajin.engine.errors import ModelLoadError
from imajin.engine.families import FAMILIES, Family, FamilyId
from imajin.engine.settings import EngineSettings
from imajin.engine.sources import ModelSource
from imajin.engine.spec import ModelSpec

logger = logging.getLogger(__name__)

# diffusers renamed `torch_dtype` to `dtype` (deprecating the old name) in the
# release that added this module; older releases know only `torch_dtype`.
try:
    from diffusers.utils import deprecation_utils as _deprecation_utils

    _DTYPE_KEYWORD = (
        "dtype"
        if hasattr(_deprecation_utils, "_TORCH_DTYPE_DEPRECATION_MESSAGE")
        else "torch_dtype"
    )
except ImportError:  # pragma: no cover - older diffusers
    _DTYPE_KEYWORD = "torch_dtype"


class PipelineLoader:
    """Loads the pipelines of one family. Subclasses add per-family components."""

    def __init__(self, family: Family) -> None:
        self.family = family

    @property
    def pipeline_class(self) -> Any:
        """The diffusers pipeline class of this family."""
        return getattr(diffusers, self.family.pipeline_class)

    def component_overrides(self, source: ModelSource) -> dict[str, Any]:
        """Extra ``from_pretrained`` arguments for this family (components to skip)."""
        return {}

    def load(
        self, spec: ModelSpec, *, dtype: torch.dtype, offline: bool, cache_dir: Path | None
    ) -> Any:
        """Load ``spec``'s pipeline on the CPU in ``dtype``.

        Raises:
            ModelLoadError: The weights are missing or unreadable; the message says
                where imajin looked and how to fix it.
        """
        source = spec.parsed_source
        if source.is_local and not Path(source.location).exists():
            raise ModelLoadError(
                f"model {spec.id!r}: {source.location} does not exist; fix `source` in the "
                "manifest or build the folder"
            )
        # Progress bars on stderr are noise in a server; logs record loads instead.
        diffusers.utils.logging.disable_progress_bar()
        transformers.utils.logging.disable_progress_bar()  # type: ignore[no-untyped-call]
        kwargs: dict[str, Any] = {
            _DTYPE_KEYWORD: dtype,
            "local_files_only": offline,
            **self.component_overrides(source),
        }
        if cache_dir is not None:
            kwargs["cache_dir"] = str(cache_dir)
        try:
            if source.kind in ("repo", "folder"):
                if spec.variant:
                    kwargs["variant"] = spec.variant
                if spec.revision and source.kind == "repo":
                    kwargs["revision"] = spec.revision
                pipe = self.pipeline_class.from_pretrained(source.location, **kwargs)
            else:
                if spec.config:
                    kwargs["config"] = spec.config
                pipe = self.pipeline_class.from_single_file(source.location, **kwargs)
        except (OSError, ValueError, KeyError, RuntimeError) as exc:
            raise ModelLoadError(_load_failure_message(spec, source, offline, exc)) from exc
        freeze(pipe)
        return pipe


def freeze(pipe: Any) -> None:
    """Mark every weight of ``pipe`` as needing no gradient, as inference has it.

    Loading a LoRA freezes the base weights it wraps (PEFT does), and unloading leaves
    them frozen. On AVX-512 CPUs the kernels then differ in their last bit from those
    run on unfrozen weights, so a model loaded unfrozen gave other pixels for the same
    request after its first LoRA job. Frozen from the start, it gives the same ones.
    Training freezes the base too and adds its trainable LoRA layers after this.
    """
    for component in pipe.components.values():
        if isinstance(component, torch.nn.Module):
            component.requires_grad_(False)


def _load_failure_message(
    spec: ModelSpec, source: ModelSource, offline: bool, exc: Exception
) -> str:
    if not source.is_local and offline:
        return (
            f"model {spec.id!r} ({source.location}) is not in the local Hugging Face cache and "
            f"engine.offline is true. Download it once with `imajin models pull {spec.id}` "
            "or set engine.offline: false"
        )
    return f"model {spec.id!r} could not be loaded from {source.location}: {exc}"


class StableDiffusionLoader(PipelineLoader):
    """SD 1.5: skip the bundled NSFW checker; imajin's safety layer owns that policy."""

    def component_overrides(self, source: ModelSource) -> dict[str, Any]:
        return {"safety_checker": None, "feature_extractor": None, "requires_safety_checker": False}


class StableDiffusionXLLoader(PipelineLoader):
    """SDXL: no invisible watermark (an optional dependency that alters pixels)."""

    def component_overrides(self, source: ModelSource) -> dict[str, Any]:
        return {"add_watermarker": False}


class StableDiffusion3Loader(PipelineLoader):
    """SD3: a folder saved without the T5 encoder loads with T5 off (SD3 supports that)."""

    def component_overrides(self, source: ModelSource) -> dict[str, Any]:
        index = Path(source.location) / "model_index.json"
        if source.kind == "folder" and index.is_file():
            entries = json.loads(index.read_text(encoding="utf-8"))
            if entries.get("text_encoder_3") in (None, [None, None]):
                return {"text_encoder_3": None, "tokenizer_3": None}
        return {}


LOADERS: dict[FamilyId, PipelineLoader] = {
    "sd15": StableDiffusionLoader(FAMILIES["sd15"]),
    "sdxl": StableDiffusionXLLoader(FAMILIES["sdxl"]),
    "sd3": StableDiffusion3Loader(FAMILIES["sd3"]),
    "zimage": PipelineLoader(FAMILIES["zimage"]),
}


def place_pipeline(
    pipe: Any, *, device: torch.device, family: Family, settings: EngineSettings
) -> None:
    """Move ``pipe`` to ``device`` (or set up CPU offload) and apply the memory options."""
    pipe.set_progress_bar_config(disable=True)
    if settings.cpu_offload != "none" and device.type != "cpu":
        if settings.cpu_offload == "model":
            pipe.enable_model_cpu_offload(device=device)
        else:
            pipe.enable_sequential_cpu_offload(device=device)
    else:
        pipe.to(device)
    if settings.attention_slicing and hasattr(pipe, "enable_attention_slicing"):
        pipe.enable_attention_slicing()
    if settings.vae_slicing:
        pipe.vae.enable_slicing()
    if settings.vae_tiling:
        pipe.vae.enable_tiling()
    if settings.torch_compile:
        # Module.compile() compiles in place, so LoRA adapters can still be injected.
        getattr(pipe, family.denoiser).compile()


def pipeline_nbytes(pipe: Any) -> int:
    """Bytes held by the weights and buffers of every torch component of ``pipe``."""
    total = 0
    for component in pipe.components.values():
        if isinstance(component, torch.nn.Module):
            for tensor in (*component.parameters(), *component.buffers()):
                total += tensor.numel() * tensor.element_size()
    return total
