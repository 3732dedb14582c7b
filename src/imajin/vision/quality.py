"""Face quality score (0–1) from confidence, size, sharpness and exposure (SPEC §6.2)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field

from imajin.vision.base import DetectedFace, FaceDetector, RGBImage

# Laplacian variance at which a crop counts as fully sharp; typical in-focus
# portraits measure several hundred on 0–255 grey levels.
_SHARP_VARIANCE = 300.0
# A face filling this fraction of the image area gets the full size score.
_FULL_SIZE_FRACTION = 0.15
# Without a face the whole image is used, scored at most this.
_NO_FACE_CEILING = 0.3


class FaceAssessment(BaseModel):
    """The face a profile uses and its score; ``face`` is ``None`` when none was found."""

    model_config = ConfigDict(frozen=True)

    face: DetectedFace | None
    faces_found: int = Field(ge=0)
    quality_score: float = Field(ge=0.0, le=1.0)


def assess_faces(detector: FaceDetector, image: RGBImage) -> FaceAssessment:
    """Detect faces in ``image`` and score the largest (or the whole image if none)."""
    faces = detector.detect(image)
    if not faces:
        image_quality = 0.5 * _sharpness(image) + 0.5 * _exposure(image)
        return FaceAssessment(
            face=None, faces_found=0, quality_score=round(_NO_FACE_CEILING * image_quality, 4)
        )
    face = max(faces, key=lambda f: f.area)
    crop = image[face.y : face.y + face.height, face.x : face.x + face.width]
    size = min(1.0, face.area / (image.shape[0] * image.shape[1]) / _FULL_SIZE_FRACTION)
    score = 0.3 * face.confidence + 0.2 * size + 0.3 * _sharpness(crop) + 0.2 * _exposure(crop)
    return FaceAssessment(
        face=face, faces_found=len(faces), quality_score=round(min(1.0, score), 4)
    )


def _grey(image: RGBImage) -> npt.NDArray[np.float64]:
    weights = np.array([0.299, 0.587, 0.114], dtype=np.float64)
    grey: npt.NDArray[np.float64] = np.asarray(image, dtype=np.float64) @ weights
    return grey


def _sharpness(image: RGBImage) -> float:
    """Variance of the 4-neighbour Laplacian, mapped to 0–1."""
    g = _grey(image)
    if min(g.shape) < 3:
        return 0.0
    lap = g[:-2, 1:-1] + g[2:, 1:-1] + g[1:-1, :-2] + g[1:-1, 2:] - 4.0 * g[1:-1, 1:-1]
    return float(min(1.0, lap.var() / _SHARP_VARIANCE))


def _exposure(image: RGBImage) -> float:
    """1 for mid-grey mean brightness, falling to 0 at black or white; clipping costs too."""
    g = _grey(image)
    mean_score = 1.0 - abs(float(g.mean()) - 127.5) / 127.5
    clipped = float(np.mean((g < 5) | (g > 250)))
    return max(0.0, mean_score * (1.0 - clipped))
