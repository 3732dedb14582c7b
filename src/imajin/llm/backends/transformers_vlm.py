"""A local vision-language model (Qwen2-VL class) run by transformers on this machine.

The model comes from a local folder or from the Hugging Face cache by repo id; it
is never downloaded at run time (``huggingface-cli download Qwen/Qwen2-VL-2B-Instruct``
puts it in the cache). It sees the images of user messages and, like the GGUF
backend, answers under a JSON schema by constrained decoding (llguidance).
"""

from __future__ import annotations

import importlib.util
import logging
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Literal, Self

from pydantic import Field, model_validator

from imajin.llm.base import BackendOptions, LLMBackend
from imajin.llm.errors import BackendNotInstalled
from imajin.llm.messages import Completion, CompletionRequest

if TYPE_CHECKING:
    from imajin.llm.backends.transformers_vlm_runtime import LoadedVLM

logger = logging.getLogger(__name__)

_REQUIRED_MODULES = ("torch", "transformers", "llguidance", "PIL")


class TransformersVLMOptions(BackendOptions):
    """Options of the transformers vision-language backend; give ``model_path`` or ``model``."""

    model_path: Path | None = Field(
        None,
        description="A local folder holding a Qwen2-VL-class -Instruct model (config.json, "
        "weights, tokenizer, preprocessor_config.json).",
    )
    model: str | None = Field(
        None,
        description="A Hugging Face repo id (e.g. Qwen/Qwen2-VL-2B-Instruct) already in the "
        "local cache; it is never downloaded here.",
    )
    cache_dir: Path | None = Field(
        None, description="Hugging Face cache folder for model; null = the hub's default."
    )
    device: str = Field("cpu", description="torch device to run on: cpu, cuda, cuda:1, mps.")
    dtype: Literal["float32", "bfloat16", "float16"] = Field(
        "float32", description="Weights' dtype; bfloat16 halves memory on a GPU."
    )
    max_pixels: int | None = Field(
        None,
        ge=28 * 28 * 4,
        description="Most pixels an image is scaled to before patching (28×28 per token); "
        "null = the model's own limit. Lower is faster and coarser.",
    )

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        if (self.model_path is None) == (self.model is None):
            raise ValueError("give exactly one of model_path (a folder) and model (a repo id)")
        return self


def model_folder(options: TransformersVLMOptions) -> Path:
    """The folder the model loads from: ``model_path``, or the cached snapshot of ``model``.

    Raises:
        BackendNotInstalled: The folder has no config.json, or the repo is not in the cache.
    """
    if options.model_path is not None:
        if not (options.model_path / "config.json").is_file():
            raise BackendNotInstalled(
                f"{options.model_path} holds no config.json; fix options.model_path to a "
                "model folder."
            )
        return options.model_path
    # Imported here: registering the backend must stay light (huggingface_hub is not).
    from huggingface_hub import try_to_load_from_cache  # noqa: PLC0415

    repo = str(options.model)
    cache = str(options.cache_dir) if options.cache_dir else None
    found = try_to_load_from_cache(repo, "config.json", cache_dir=cache)
    if not isinstance(found, str):
        raise BackendNotInstalled(
            f"The vision model {repo} is not in the Hugging Face cache; download it with "
            f"`huggingface-cli download {repo}` (imajin never downloads at run time), or set "
            "options.model_path."
        )
    return Path(found).parent


class TransformersVLMBackend(LLMBackend):
    """Runs a vision-language model with transformers; loaded on first use, one answer at a time.

    A torch model is not re-entrant, so a lock serialises loading and generation. The
    timeout covers generation, not the one-off load (call :meth:`load` to pay it early).
    """

    options_type: ClassVar[type[BackendOptions]] = TransformersVLMOptions
    supports_json_schema: ClassVar[bool] = True
    supports_vision: ClassVar[bool] = True

    options: TransformersVLMOptions

    def __init__(self, options: BackendOptions) -> None:
        super().__init__(options)
        self.folder = model_folder(self.options)
        self._lock = threading.Lock()
        self._loaded: LoadedVLM | None = None

    @classmethod
    def check_available(cls, options: BackendOptions) -> None:
        """Raise when torch, transformers, llguidance, Pillow or the model is missing."""
        missing = [name for name in _REQUIRED_MODULES if importlib.util.find_spec(name) is None]
        if missing:
            raise BackendNotInstalled(
                f"The transformers-vlm backend needs {', '.join(missing)}; install them with "
                f"`pip install {' '.join(missing)}`."
            )
        if isinstance(options, TransformersVLMOptions):
            model_folder(options)

    def load(self) -> None:
        """Load the model now rather than on the first question."""
        with self._lock:
            self._ensure_loaded()

    def complete(self, request: CompletionRequest) -> Completion:
        """Answer ``request``, images included; constrained to ``request.json_schema`` if given.

        Raises:
            LLMTimeout: Generation ran past ``request.timeout_s`` (not retried).
            InvalidSchema: The schema cannot be compiled for constrained decoding.
        """
        with self._lock:
            return self._ensure_loaded().generate(request)

    def describe(self) -> str:
        """``transformers-vlm:<repo id or folder name>``."""
        return f"transformers-vlm:{self.options.model or self.folder.name}"

    def close(self) -> None:
        """Drop the model so its memory can be freed."""
        with self._lock:
            self._loaded = None

    def _ensure_loaded(self) -> LoadedVLM:
        if self._loaded is None:
            # Imported here: it imports torch and transformers, seconds that only a user pays.
            from imajin.llm.backends import transformers_vlm_runtime  # noqa: PLC0415

            started = time.perf_counter()
            self._loaded = transformers_vlm_runtime.load_vlm(
                self.folder,
                device=self.options.device,
                dtype=self.options.dtype,
                max_pixels=self.options.max_pixels,
            )
            logger.info(
                "Loaded vision model %s on %s in %.1f s",
                self.describe(),
                self.options.device,
                time.perf_counter() - started,
            )
        return self._loaded
