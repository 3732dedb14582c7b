"""Parameters embedded in PNG/WebP (and sidecars) reproduce the image they describe."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from imajin.engine import (
    AppliedLora,
    Engine,
    GenerationParameters,
    format_parameters,
    read_metadata,
    save_image,
)
from imajin.engine.metadata import parse_parameters
from imajin.errors import InvalidInput, NotFound


def sample_parameters(**changes: object) -> GenerationParameters:
    base = GenerationParameters(
        prompt="a fox, in snow: at night",
        negative_prompt="blurry, lowres",
        model="juggernaut-xi-v11",
        model_hash="ab" * 32,
        family="sdxl",
        width=1024,
        height=768,
        steps=30,
        guidance=6.5,
        seed=1234,
        scheduler="dpmpp_2m_karras",
        loras=[AppliedLora(name="ink", path="/l/ink.safetensors", sha256="cd" * 32, weight=0.8)],
        imajin_version="0.1.0",
    )
    return base.model_copy(update=changes)


def test_png_round_trip_regenerates_identical_pixels(
    tiny_engine: Engine, tiny_sd15_lora: Path, tmp_path: Path
) -> None:
    first = tiny_engine.generate(
        {
            "prompt": "a red fox, snow",
            "negative_prompt": "blurry",
            "model": "tiny-sd15",
            "scheduler": "dpmpp_2m_karras",
            "guidance": 4.5,
            "seed": 99,
            "num_images": 2,
            "loras": [{"path": str(tiny_sd15_lora), "weight": 0.6}],
        }
    ).images[1]
    path = tiny_engine.save(first, tmp_path / "fox.png")
    params = read_metadata(path)
    assert params == first.parameters
    assert params.seed == 100  # the second image of the batch
    again = tiny_engine.generate(params.to_request()).images[0]
    assert np.array_equal(np.asarray(again.image), np.asarray(Image.open(path).convert("RGB")))
    assert again.parameters == params


def test_png_text_chunk_is_a1111_readable(tmp_path: Path) -> None:
    params = sample_parameters()
    path = save_image(Image.new("RGB", (8, 8)), tmp_path / "x.png", params)
    text = Image.open(path).info["parameters"]
    assert text.splitlines()[0] == "a fox, in snow: at night"
    assert text.splitlines()[1] == "Negative prompt: blurry, lowres"
    assert "Steps: 30, Sampler: DPM++ 2M Karras, CFG scale: 6.5, Seed: 1234, Size: 1024x768" in text
    assert "Model hash: abababab" in text
    assert 'Lora hashes: "ink: cdcdcdcdcd"' in text
    assert "Version: imajin 0.1.0" in text


def test_a1111_text_parses_back() -> None:
    params = sample_parameters()
    parsed = parse_parameters(format_parameters(params))
    assert (parsed.prompt, parsed.negative_prompt) == (params.prompt, params.negative_prompt)
    assert (parsed.steps, parsed.seed, parsed.width, parsed.height) == (30, 1234, 1024, 768)
    assert (parsed.guidance, parsed.scheduler, parsed.model) == (
        6.5,
        "dpmpp_2m_karras",
        params.model,
    )


def test_foreign_a1111_text_parses() -> None:
    text = (
        "masterpiece, 1girl\nsecond line\nNegative prompt: lowres\n"
        "Steps: 28, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 7, Seed: 42, "
        "Size: 832x1216, Model hash: 1d5b43ff75, Model: animagine-xl-4.0-opt"
    )
    parsed = parse_parameters(text)
    assert parsed.prompt == "masterpiece, 1girl\nsecond line"
    assert parsed.scheduler == "dpmpp_2m_karras"
    assert (parsed.width, parsed.height, parsed.seed) == (832, 1216, 42)


def test_webp_and_sidecar(tmp_path: Path) -> None:
    params = sample_parameters(prompt='quotes " and <xml> & ünïcode')
    webp = save_image(Image.new("RGB", (16, 16), "red"), tmp_path / "x.webp", params, sidecar=True)
    assert read_metadata(webp) == params
    assert read_metadata(tmp_path / "x.json") == params
    with Image.open(webp) as image:
        assert b"imajin:json" in image.info["xmp"]
        assert image.getexif().get(0x9286)  # A1111 text in EXIF UserComment


def test_sidecar_is_used_when_nothing_is_embedded(tmp_path: Path) -> None:
    params = sample_parameters()
    path = save_image(
        Image.new("RGB", (8, 8)), tmp_path / "y.png", params, embed=False, sidecar=True
    )
    assert "parameters" not in Image.open(path).info
    assert read_metadata(path) == params


def test_missing_and_empty_files(tmp_path: Path) -> None:
    with pytest.raises(NotFound):
        read_metadata(tmp_path / "none.png")
    plain = tmp_path / "plain.png"
    Image.new("RGB", (8, 8)).save(plain)
    with pytest.raises(InvalidInput, match="no generation parameters"):
        read_metadata(plain)
    with pytest.raises(InvalidInput, match=r"\.png or \.webp"):
        save_image(Image.new("RGB", (8, 8)), tmp_path / "z.gif", sample_parameters())


def test_engine_settings_control_sidecar(tiny_engine: Engine, tmp_path: Path) -> None:
    image = tiny_engine.generate({"prompt": "a fox", "seed": 3}).images[0]
    tiny_engine.save(image, tmp_path / "a.png")
    assert not (tmp_path / "a.json").exists()
    engine_with_sidecar = Engine(
        registry=tiny_engine.registry,
        settings=tiny_engine.settings.model_copy(update={"write_sidecar": True}),
    )
    engine_with_sidecar.save(image, tmp_path / "b.png")
    assert read_metadata(tmp_path / "b.json") == image.parameters
