"""Real OpenCV detection on real photographs shipped in scikit-image's wheel (offline)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from skimage import data

from imajin.config.loader import load_settings
from imajin.vision import (
    DetectedFace,
    FaceDetector,
    UnknownDetector,
    assess_faces,
    build_detector,
    detector_names,
    register_detector,
)
from imajin.vision.backends.opencv_haar import OpenCVHaarDetector
from imajin.vision.errors import VisionConfigError
from imajin.vision.registry import detector_factory
from imajin.wiring import build_platform


def _rgb(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        image = np.stack([image] * 3, axis=-1)
    return np.ascontiguousarray(image[..., :3])


@pytest.fixture(scope="module")
def detector() -> FaceDetector:
    return build_detector("opencv-haar")


def test_finds_the_astronauts_face(detector: FaceDetector) -> None:
    # NASA portrait of Eileen Collins (public domain); her face spans about x 175–270, y 65–160.
    faces = detector.detect(_rgb(data.astronaut()))
    assert len(faces) == 1
    face = faces[0]
    assert 150 < face.x < 200 and 40 < face.y < 100
    assert 70 < face.width < 130
    assert face.confidence > 0.5


@pytest.mark.parametrize("name", ["coffee", "chelsea", "rocket"])
def test_no_face_in_photographs_without_people(detector: FaceDetector, name: str) -> None:
    assert detector.detect(_rgb(getattr(data, name)())) == []


def test_box_follows_the_frame(detector: FaceDetector) -> None:
    # Mirrored image: the box moves to the mirrored place.
    image = _rgb(data.astronaut())
    plain = detector.detect(image)[0]
    mirrored = detector.detect(np.ascontiguousarray(image[:, ::-1]))[0]
    assert abs((mirrored.x + mirrored.width) - (image.shape[1] - plain.x)) < 15


def test_quality_prefers_sharp_face_over_blurred_and_no_face(detector: FaceDetector) -> None:
    image = _rgb(data.astronaut())
    sharp = assess_faces(detector, image)
    blurred_image = image.astype(np.float64)
    for _ in range(6):  # box blur by neighbour averaging
        blurred_image = (
            blurred_image
            + np.roll(blurred_image, 1, 0)
            + np.roll(blurred_image, -1, 0)
            + np.roll(blurred_image, 1, 1)
            + np.roll(blurred_image, -1, 1)
        ) / 5
    blurred = assess_faces(detector, blurred_image.astype(np.uint8))
    none = assess_faces(detector, _rgb(data.coffee()))
    assert sharp.face is not None and sharp.faces_found == 1
    assert none.face is None and none.faces_found == 0
    assert 0.0 <= none.quality_score <= 0.3 < sharp.quality_score <= 1.0
    if blurred.face is not None:
        assert blurred.quality_score < sharp.quality_score


def test_several_faces_takes_the_largest() -> None:
    class TwoFaces(FaceDetector):
        def detect(self, image: np.ndarray) -> list[DetectedFace]:
            small = DetectedFace(x=0, y=0, width=10, height=10, confidence=0.9)
            big = DetectedFace(x=20, y=20, width=40, height=40, confidence=0.8)
            return [small, big]

    register_detector("two-faces-test", TwoFaces, replace=True)
    result = assess_faces(build_detector("two-faces-test"), _rgb(data.astronaut()))
    assert result.faces_found == 2
    assert result.face is not None and result.face.width == 40


def test_registry_errors_name_what_is_registered() -> None:
    assert "opencv-haar" in detector_names()
    with pytest.raises(UnknownDetector, match="opencv-haar"):
        build_detector("nope")
    with pytest.raises(ValueError, match="malformed"):
        register_detector("Bad Name", FaceDetector)


def test_unknown_option_is_refused() -> None:
    with pytest.raises(ValueError, match="extra"):
        build_detector("opencv-haar", {"scale": 2})


def test_wrong_image_shape_is_refused(detector: FaceDetector) -> None:
    with pytest.raises(ValueError, match="H×W×3"):
        detector.detect(np.zeros((10, 10), dtype=np.uint8))


class CentreFace(FaceDetector):
    """A detector of one's own, loaded by import path from configuration (see below)."""

    def detect(self, image: np.ndarray) -> list[DetectedFace]:
        height, width = image.shape[:2]
        return [
            DetectedFace(
                x=width // 4, y=height // 4, width=width // 2, height=height // 2, confidence=1.0
            )
        ]


def test_configuration_picks_the_detector_by_name_or_import_path(tmp_path: Path) -> None:
    built = detector_factory("tests.vision.test_detection:CentreFace")()
    assert isinstance(built, CentreFace)
    (face,) = built.detect(np.zeros((40, 80, 3), dtype=np.uint8))
    assert (face.x, face.y, face.width, face.height) == (20, 10, 40, 20)
    assert isinstance(detector_factory("opencv-haar")(), OpenCVHaarDetector)
    # The platform accepts it at start-up (a bad one fails there: next test).
    settings = load_settings(
        environ={
            "IMAJIN_DATA_DIR": str(tmp_path / "data"),
            "IMAJIN_VISION__FACE_DETECTOR": "tests.vision.test_detection:CentreFace",
        },
        cwd=tmp_path,
    )
    assert settings.vision.face_detector.endswith(":CentreFace")
    build_platform(settings).close()


@pytest.mark.parametrize(
    ("spec", "options", "expected"),
    [
        ("nope", {}, "opencv-haar"),  # the message lists what is registered
        ("tests.vision.missing:Thing", {}, "cannot import"),
        ("tests.vision.test_detection:_rgb", {}, "not a FaceDetector subclass"),
        ("opencv-haar", {"scale": 2}, "scale"),
    ],
)
def test_a_bad_detector_setting_fails_at_start_up_naming_the_key(
    tmp_path: Path, spec: str, options: dict[str, object], expected: str
) -> None:
    with pytest.raises(VisionConfigError, match=expected) as caught:
        detector_factory(spec, options)
    assert caught.value.field == "vision.face_detector"
    assert "vision.face_detector" in caught.value.message
    settings = load_settings(
        environ={"IMAJIN_DATA_DIR": str(tmp_path / "data"), "IMAJIN_VISION__FACE_DETECTOR": spec},
        cwd=tmp_path,
    )
    if not options:
        with pytest.raises(VisionConfigError, match=expected):
            build_platform(settings)
