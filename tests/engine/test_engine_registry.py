"""Model registry: shipped manifest, operator overrides, resolution of styles, ids and paths."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch
import yaml
from safetensors.torch import save_file

from imajin.engine import ModelRegistry, StyleDefaults
from imajin.engine.local_models import checkpoint_family, describe_local_model
from imajin.engine.registry import load_manifests
from imajin.engine.sources import parse_source
from imajin.errors import ConfigError, InvalidInput, NotFound

SPEC_IDS = {
    "juggernaut-xi-v11": ("photorealistic", "sdxl", 1024),
    "sd35-large": ("photorealistic", "sd3", 1440),
    "realvisxl-v4": ("photorealistic", "sdxl", 1024),
    "epicrealism-xl": ("photorealistic", "sdxl", 1024),
    "juggernaut-xl-v9": ("photorealistic", "sdxl", 1024),
    "animagine-xl-4.0-opt": ("anime", "sdxl", 1024),
    "illustrious-xl-v2": ("anime", "sdxl", 1536),
    "noobai-xl-vpred": ("anime", "sdxl", 1024),
    "animagine-xl-3.1": ("anime", "sdxl", 1024),
    "stable-diffusion-v1-5": ("photorealistic", "sd15", 512),
    "z-image-turbo": ("photorealistic", "zimage", 1024),
}


def _write_manifest(path: Path, entries: list[dict[str, object]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump({"models": entries}))
    return path


def test_shipped_manifest_lists_every_spec_model() -> None:
    specs = {spec.id: spec for spec in load_manifests()}
    assert set(specs) == set(SPEC_IDS)
    for model_id, (style, family, native) in SPEC_IDS.items():
        spec = specs[model_id]
        assert (spec.style, spec.family, spec.native) == (style, family, native)
        assert spec.parsed_source.kind in ("repo", "hub_file")
    assert specs["noobai-xl-vpred"].prediction == "v_prediction"
    assert specs["animagine-xl-4.0-opt"].scheduler == "euler_a"
    assert specs["juggernaut-xl-v9"].status == "legacy"
    assert specs["juggernaut-xi-v11"].status == "default"


def test_styles_resolve_to_configured_defaults() -> None:
    registry = ModelRegistry(load_manifests(), defaults=StyleDefaults())
    assert registry.resolve("photorealistic", allow_paths=True).id == "juggernaut-xi-v11"
    assert registry.resolve("anime", allow_paths=True).id == "animagine-xl-4.0-opt"
    custom = ModelRegistry(load_manifests(), defaults=StyleDefaults(anime="noobai-xl-vpred"))
    assert custom.resolve("anime", allow_paths=True).id == "noobai-xl-vpred"
    assert custom.resolve("sd35-large", allow_paths=True).family == "sd3"


def test_unknown_id_lists_known_ids() -> None:
    registry = ModelRegistry(load_manifests(), defaults=StyleDefaults())
    with pytest.raises(NotFound) as caught:
        registry.resolve("no-such-model", allow_paths=True)
    assert caught.value.field == "model"
    assert "no-such-model" in caught.value.message
    assert "juggernaut-xi-v11" in caught.value.message
    assert "z-image-turbo" in caught.value.message


def test_default_naming_unknown_model_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as caught:
        ModelRegistry(load_manifests(), defaults=StyleDefaults(anime="missing"))
    assert caught.value.field == "engine.defaults.anime"


def test_operator_manifest_overrides_and_adds(tmp_path: Path, tiny_sd15_path: Path) -> None:
    local = tmp_path / "models"
    manifest = _write_manifest(
        local / "manifest.yaml",
        [
            {"id": "stable-diffusion-v1-5", "source": str(tiny_sd15_path), "native": 64},
            {
                "id": "my-model",
                "name": "Mine",
                "style": "anime",
                "family": "sd15",
                "source": "./weights/mine",
                "native": 512,
                "scheduler": "ddim",
                "steps": 20,
                "guidance": 7,
            },
        ],
    )
    registry = ModelRegistry.from_manifests(defaults=StyleDefaults(), operator_manifest=manifest)
    overridden = registry.get("stable-diffusion-v1-5")
    assert overridden.source == str(tiny_sd15_path)
    assert overridden.native == 64
    assert overridden.name == "Stable Diffusion v1.5"  # untouched fields keep shipped values
    added = registry.get("my-model")
    assert added.source == str((local / "weights" / "mine").resolve())
    assert added.parsed_source.kind == "folder"
    assert registry.ids()[-1] == "my-model"


def test_a_four_line_entry_takes_the_family_defaults(tmp_path: Path) -> None:
    manifest = _write_manifest(
        tmp_path / "manifest.yaml",
        [
            {"id": "my-sdxl", "style": "anime", "family": "sdxl", "source": "me/my-sdxl"},
            {"id": "my-turbo", "style": "photorealistic", "family": "zimage", "source": "me/t"},
        ],
    )
    registry = ModelRegistry.from_manifests(defaults=StyleDefaults(), operator_manifest=manifest)
    sdxl, turbo = registry.get("my-sdxl"), registry.get("my-turbo")
    fields = ("name", "native", "scheduler", "steps", "guidance", "prediction", "status")
    assert tuple(getattr(sdxl, f) for f in fields) == (
        "my-sdxl",
        1024,
        "dpmpp_2m_karras",
        30,
        6.0,
        "epsilon",
        "available",
    )
    assert (turbo.native, turbo.scheduler, turbo.steps, turbo.guidance) == (1024, "euler", 9, 0.0)
    # A field the operator gives wins over the family's.
    given = _write_manifest(
        tmp_path / "m3.yaml",
        [{"id": "mine", "style": "anime", "family": "sd15", "source": "me/x", "steps": 12}],
    )
    mine = ModelRegistry.from_manifests(defaults=StyleDefaults(), operator_manifest=given)
    assert (mine.get("mine").steps, mine.get("mine").native) == (12, 512)
    unknown = _write_manifest(
        tmp_path / "m4.yaml", [{"id": "bad", "style": "anime", "family": "sd9", "source": "a/b"}]
    )
    with pytest.raises(ConfigError, match="family"):
        ModelRegistry.from_manifests(defaults=StyleDefaults(), operator_manifest=unknown)


def test_operator_manifest_errors_name_the_field(tmp_path: Path) -> None:
    manifest = _write_manifest(
        tmp_path / "manifest.yaml", [{"id": "stable-diffusion-v1-5", "steps": 500}]
    )
    with pytest.raises(ConfigError) as caught:
        ModelRegistry.from_manifests(defaults=StyleDefaults(), operator_manifest=manifest)
    assert "steps" in caught.value.message
    assert "stable-diffusion-v1-5" in caught.value.message
    bad_id = _write_manifest(tmp_path / "m2.yaml", [{"id": "Has Spaces"}])
    with pytest.raises(ConfigError, match="slug"):
        ModelRegistry.from_manifests(defaults=StyleDefaults(), operator_manifest=bad_id)


def test_local_folders_resolve_by_path(tiny_sd15_path: Path, tiny_sdxl_path: Path) -> None:
    registry = ModelRegistry(load_manifests(), defaults=StyleDefaults())
    sd15 = registry.resolve(str(tiny_sd15_path), allow_paths=True)
    assert (sd15.family, sd15.native, sd15.id) == ("sd15", 64, str(tiny_sd15_path.resolve()))
    sdxl = registry.resolve(str(tiny_sdxl_path), allow_paths=True)
    assert (sdxl.family, sdxl.native, sdxl.scheduler) == ("sdxl", 128, "euler_a")


def test_folder_without_card_uses_model_index(tiny_sdxl_path: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(tiny_sdxl_path, copy)
    (copy / "imajin.json").unlink()
    spec = describe_local_model(copy)
    assert spec.family == "sdxl"
    assert spec.native == 128  # from unet/config.json sample_size x 8
    assert spec.scheduler == "dpmpp_2m_karras"  # the family default


def test_missing_or_foreign_local_paths(tmp_path: Path) -> None:
    registry = ModelRegistry(load_manifests(), defaults=StyleDefaults())
    with pytest.raises(NotFound):
        registry.resolve(str(tmp_path / "nothing-here"), allow_paths=True)
    with pytest.raises(InvalidInput, match=r"model_index\.json"):
        registry.resolve(str(tmp_path), allow_paths=True)
    pickle = tmp_path / "model.ckpt"
    pickle.write_bytes(b"x")
    with pytest.raises(InvalidInput, match=r"\.safetensors"):
        describe_local_model(pickle)


@pytest.mark.parametrize(
    ("key", "family"),
    [
        ("conditioner.embedders.1.model.ln_final.weight", "sdxl"),
        ("cond_stage_model.transformer.text_model.final_layer_norm.weight", "sd15"),
        ("model.diffusion_model.joint_blocks.0.context_block.attn.qkv.weight", "sd3"),
        ("model.diffusion_model.layers.0.adaLN_modulation.0.weight", "zimage"),
    ],
)
def test_checkpoint_family_from_keys(tmp_path: Path, key: str, family: str) -> None:
    path = tmp_path / "ckpt.safetensors"
    save_file({key: torch.zeros(1), "v_pred": torch.zeros(0)}, str(path))
    assert checkpoint_family(path) == (family, True)


def test_unrecognised_checkpoint_says_how_to_fix(tmp_path: Path) -> None:
    path = tmp_path / "odd.safetensors"
    save_file({"something.else": torch.zeros(1)}, str(path))
    with pytest.raises(InvalidInput, match="family:"):
        checkpoint_family(path)


@pytest.mark.parametrize(
    ("source", "kind"),
    [
        ("RunDiffusion/Juggernaut-XI-v11", "repo"),
        ("OnomaAIResearch/Illustrious-XL-v2.0/Illustrious-XL-v2.0.safetensors", "hub_file"),
        ("/models/x.safetensors", "file"),
        ("/models/folder", "folder"),
    ],
)
def test_source_kinds(source: str, kind: str) -> None:
    assert parse_source(source).kind == kind


def test_bad_sources_are_refused() -> None:
    with pytest.raises(ValueError, match=r"\.safetensors"):
        parse_source("/models/x.ckpt")
    with pytest.raises(ValueError, match="not a model source"):
        parse_source("just-a-word")


def test_without_paths_a_real_folder_is_just_an_unknown_model(
    tiny_sd15_path: Path, tmp_path: Path
) -> None:
    registry = ModelRegistry(load_manifests(), defaults=StyleDefaults())
    assert registry.resolve("anime", allow_paths=False).id == "animagine-xl-4.0-opt"
    messages = []
    for model in (str(tiny_sd15_path), str(tmp_path), str(tmp_path / "missing"), "no-such-id"):
        with pytest.raises(NotFound) as caught:
            registry.resolve(model, allow_paths=False)
        messages.append(caught.value.message.replace(repr(model), "<model>"))
    assert len(set(messages)) == 1, messages
    assert "local" not in messages[0]  # no hint that paths would be read
