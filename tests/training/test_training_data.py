"""The training folder's checks and the data order; no model is loaded here."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pydantic import ValidationError

from imajin.config.training import TrainingSettings
from imajin.errors import InvalidInput, NotFound
from imajin.training.dataset import load_image, scan_dataset
from imajin.training.errors import TrainingDataError
from imajin.training.loop import ExampleOrder
from tests.training.conftest import write_training_set


def test_scan_pairs_images_with_captions_in_name_order(training_dir: Path) -> None:
    (training_dir / "notes.md").write_text("not training data")
    (training_dir / ".hidden.png").write_bytes(b"")
    examples = scan_dataset(training_dir)
    assert [e.image.name for e in examples] == [f"item{i:02d}.png" for i in range(5)]
    # Line breaks and padding in a caption file are formatting.
    assert examples[0].caption == "a red circle on a soft gradient, flat vector style"


def test_missing_caption_names_the_image(training_dir: Path) -> None:
    (training_dir / "item03.txt").unlink()
    with pytest.raises(TrainingDataError, match=r"item03\.png has no caption.*item03\.txt"):
        scan_dataset(training_dir)


def test_empty_caption_and_empty_folder_and_missing_folder(tmp_path: Path) -> None:
    folder = write_training_set(tmp_path / "set", count=2)
    (folder / "item01.txt").write_text("  \n")
    with pytest.raises(TrainingDataError, match=r"item01\.txt is empty"):
        scan_dataset(folder)
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "orphan.txt").write_text("a caption without an image")
    with pytest.raises(TrainingDataError, match=r"no images in .*add images"):
        scan_dataset(empty)
    with pytest.raises(NotFound, match="does not exist"):
        scan_dataset(tmp_path / "nowhere")


def test_unreadable_image_is_named(training_dir: Path) -> None:
    (training_dir / "broken.jpg").write_bytes(b"not a jpeg at all")
    (training_dir / "broken.txt").write_text("a broken file")
    with pytest.raises(TrainingDataError, match=r"broken\.jpg is not a readable image"):
        scan_dataset(training_dir)
    assert isinstance(TrainingDataError("x"), InvalidInput)  # the API answers 422


def test_load_image_resizes_and_centre_crops(tmp_path: Path) -> None:
    pixels = np.zeros((60, 120, 3), dtype=np.uint8)
    pixels[:, 40:80] = 255  # a white band in the middle third
    Image.fromarray(pixels).save(tmp_path / "wide.png")
    prepared = load_image(tmp_path / "wide.png", side=32)
    assert prepared.pixels.shape == (3, 32, 32)
    assert prepared.pixels.min() >= -1.0 and prepared.pixels.max() <= 1.0
    assert prepared.original_size == (60, 120)
    assert prepared.crop_top_left == (0, 16)  # 64x32 after resizing; 16 px off each side
    assert prepared.pixels[:, :, 16].mean() > 0.9  # the band survives the crop


def test_example_order_is_a_pure_function_of_seed_and_position() -> None:
    order = ExampleOrder(seed=3, count=5, batch_size=2)
    positions = [int(i) for m in range(10) for i in order.batch(m)]
    # Each epoch of five positions visits every example once.
    for epoch in range(4):
        assert sorted(positions[epoch * 5 : epoch * 5 + 5]) == [0, 1, 2, 3, 4]
    again = ExampleOrder(seed=3, count=5, batch_size=2)
    assert [int(i) for i in again.batch(7)] == positions[14:16]
    other = ExampleOrder(seed=4, count=5, batch_size=2)
    assert [int(i) for m in range(10) for i in other.batch(m)] != positions


def test_settings_refuse_bad_values() -> None:
    with pytest.raises(ValidationError, match="multiple of 8"):
        TrainingSettings(resolution=100)
    with pytest.raises(ValidationError, match="not a device"):
        TrainingSettings(device="gpu0")
    with pytest.raises(ValidationError):
        TrainingSettings(rank=0)
    with pytest.raises(ValidationError):
        TrainingSettings.model_validate({"learning_rate": 1e-4, "ranks": 4})
