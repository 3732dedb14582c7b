"""The interface every face detector implements, and what it returns."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field


class DetectorOptions(BaseModel):
    """Base of every detector's options: unknown keys are refused, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Point(BaseModel):
    """A landmark in image pixels (x to the right, y down)."""

    model_config = ConfigDict(frozen=True)

    x: float
    y: float


class DetectedFace(BaseModel):
    """One face: its box in pixels of the image given, landmarks when the backend has them."""

    model_config = ConfigDict(frozen=True)

    x: int = Field(ge=0)
    y: int = Field(ge=0)
    width: int = Field(gt=0)
    height: int = Field(gt=0)
    confidence: float = Field(ge=0.0, le=1.0)
    landmarks: dict[str, Point] | None = None
    """Named points (e.g. ``left_eye``); ``None`` when the backend finds none."""

    @property
    def area(self) -> int:
        return self.width * self.height


RGBImage = npt.NDArray[np.uint8]
"""Height × width × 3, RGB, ``uint8``."""


class FaceDetector(ABC):
    """A way to find faces. Subclasses implement :meth:`detect` only.

    Args:
        options: The detector's validated options (an instance of ``options_type``).
    """

    options_type: ClassVar[type[DetectorOptions]] = DetectorOptions
    has_landmarks: ClassVar[bool] = False
    """Fills :attr:`DetectedFace.landmarks`."""

    def __init__(self, options: DetectorOptions) -> None:
        if not isinstance(options, self.options_type):
            raise TypeError(
                f"{type(self).__name__} needs {self.options_type.__name__}, "
                f"got {type(options).__name__}."
            )
        self.options = options

    @abstractmethod
    def detect(self, image: RGBImage) -> list[DetectedFace]:
        """Every face found in ``image`` (H×W×3 RGB uint8), largest first."""
