"""Face detection with OpenCV's Haar cascades, whose XML ships in the opencv wheel.

No file is downloaded: the cascade is read from ``cv2.data.haarcascades``. The
cascades give boxes and a stage weight per box, no landmarks.
"""

from __future__ import annotations

import math
import threading
from typing import Any

import numpy as np
from pydantic import Field

from imajin.vision.base import DetectedFace, DetectorOptions, FaceDetector, RGBImage
from imajin.vision.errors import DetectorNotInstalled


class OpenCVHaarOptions(DetectorOptions):
    cascade: str = Field(
        default="haarcascade_frontalface_default.xml",
        description="File name of a cascade under cv2.data.haarcascades.",
    )
    scale_factor: float = Field(default=1.1, gt=1.0, description="Pyramid step between scales.")
    min_neighbors: int = Field(
        default=5, ge=1, description="Overlapping hits a box needs; higher means fewer false ones."
    )
    min_size_fraction: float = Field(
        default=0.05,
        gt=0.0,
        lt=1.0,
        description="Smallest face side as a fraction of the image's shorter side.",
    )
    weight_scale: float = Field(
        default=2.0,
        gt=0.0,
        description="Stage weight at which confidence reaches about 0.63 (1 - 1/e).",
    )


def _import_cv2() -> Any:
    try:
        import cv2  # noqa: PLC0415  # loaded on first use
    except ImportError:  # pragma: no cover - depends on the installation
        raise DetectorNotInstalled(
            "The opencv-haar detector needs OpenCV: pip install 'opencv-python-headless<5'."
        ) from None
    return cv2


class OpenCVHaarDetector(FaceDetector):
    """Frontal faces by a Haar cascade; confidence maps the cascade's last-stage weight to 0–1."""

    options_type = OpenCVHaarOptions

    def __init__(self, options: DetectorOptions) -> None:
        super().__init__(options)
        self._cascade: Any = None
        # cv2.CascadeClassifier is not safe to share across threads while loading.
        self._lock = threading.Lock()

    def _classifier(self) -> Any:
        with self._lock:
            if self._cascade is None:
                cv2 = _import_cv2()
                opts = self._opts
                path = f"{cv2.data.haarcascades}{opts.cascade}"
                cascade = cv2.CascadeClassifier(path)
                if cascade.empty():
                    raise DetectorNotInstalled(
                        f"OpenCV cascade {opts.cascade!r} is not in {cv2.data.haarcascades}; "
                        "name one of the haarcascade_*.xml files shipped with OpenCV."
                    )
                self._cascade = cascade
            return self._cascade

    @property
    def _opts(self) -> OpenCVHaarOptions:
        opts = self.options
        if not isinstance(opts, OpenCVHaarOptions):  # pragma: no cover - checked in __init__
            raise TypeError("OpenCVHaarDetector needs OpenCVHaarOptions.")
        return opts

    def detect(self, image: RGBImage) -> list[DetectedFace]:
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ValueError(
                f"`image` has to be H×W×3 uint8 RGB but has shape {image.shape} and "
                f"dtype {image.dtype}."
            )
        cv2 = _import_cv2()
        opts = self._opts
        gray = cv2.equalizeHist(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY))
        side = max(1, int(min(gray.shape) * opts.min_size_fraction))
        boxes, _levels, weights = self._classifier().detectMultiScale3(
            gray,
            scaleFactor=opts.scale_factor,
            minNeighbors=opts.min_neighbors,
            minSize=(side, side),
            outputRejectLevels=True,
        )
        faces = [
            DetectedFace(
                x=int(x),
                y=int(y),
                width=int(w),
                height=int(h),
                confidence=_confidence(float(weight), opts.weight_scale),
            )
            for (x, y, w, h), weight in zip(boxes, np.ravel(weights), strict=True)
        ]
        return sorted(faces, key=lambda face: face.area, reverse=True)


def _confidence(weight: float, scale: float) -> float:
    # The stage weight is unbounded above and may be negative for weak hits.
    return 1.0 - math.exp(-max(weight, 0.0) / scale)
