"""Every command of the README's CLI table, run as a real ``imajin`` subprocess.

Nothing is injected: each command reads its configuration through Typer's
context and builds its pieces in the composition root, exactly as a user's
shell runs it. One tiny SD 1.5 model (built once per session) and one data
directory serve the whole module.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image

from tests.assistant.conftest import EXAMPLES
from tests.studio.conftest import MINI_CSV, MINI_YAML, studio_environ, write_set
from tests.training.conftest import write_training_set

# The scripted backend answers every LLM question with a valid minimal answer.
CONFIG = {"llm": {"default_model": "tiny", "models": {"tiny": {"backend": "scripted"}}}}


class Shell:
    """Runs ``imajin ARGS`` in a working directory with a private environment."""

    def __init__(self, cwd: Path, environ: dict[str, str]) -> None:
        self.cwd = cwd
        self.environ = environ

    def run(self, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [sys.executable, "-m", "imajin", *args],
            cwd=self.cwd,
            env=self.environ,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if ok:
            assert result.returncode == 0, f"imajin {' '.join(args)}:\n{result.stderr}"
        return result


@pytest.fixture(scope="module")
def shell(tmp_path_factory: pytest.TempPathFactory, tiny_sd15_path: Path) -> Shell:
    home = tmp_path_factory.mktemp("cli")
    data = home / "data"
    write_set(data / "sets", "mini", MINI_YAML, MINI_CSV)
    (home / "config.yaml").write_text(yaml.safe_dump(CONFIG), encoding="utf-8")
    environ = {key: value for key, value in os.environ.items() if not key.startswith("IMAJIN_")}
    environ.update(studio_environ(data, tiny_sd15_path))
    environ["COLUMNS"] = "200"  # rich tables: keep ids on one line
    return Shell(home, environ)


def test_generate_from_and_inspect(
    shell: Shell, tiny_sd15_path: Path, tiny_sd15_lora: Path
) -> None:
    folder = shell.cwd / "foxes"
    shell.run(
        "generate", "--prompt", "a fox", "--model", str(tiny_sd15_path), "--steps", "2",
        "--seed", "5", "-n", "2", "--scheduler", "euler", "--lora", f"{tiny_sd15_lora}:0.7",
        "--output", str(folder),
    )  # fmt: skip
    first, second = sorted(folder.glob("*.png"))
    assert [first.stem[-1], second.stem[-1]] == ["5", "6"]  # image i uses seed + i
    again = shell.cwd / "again.png"
    shell.run("generate", "--from", str(first), "--output", str(again))
    assert np.array_equal(np.asarray(Image.open(first)), np.asarray(Image.open(again)))

    params = json.loads(shell.run("inspect", str(again), "--json").stdout)
    assert (params["prompt"], params["seed"], params["steps"]) == ("a fox", 5, 2)
    assert (params["scheduler"], params["loras"][0]["weight"]) == ("euler", 0.7)
    assert "Seed: 6" in shell.run("inspect", str(second), "--a1111").stdout


def test_generate_refuses_a_blocked_prompt(shell: Shell, tiny_sd15_path: Path) -> None:
    # The safety layer comes from the composition root, also for the CLI.
    result = shell.run(
        "generate", "--model", str(tiny_sd15_path), "--prompt", "a naked child", ok=False
    )
    assert result.returncode == 1
    assert "error:" in result.stderr


def test_models_list(shell: Shell) -> None:
    models = json.loads(shell.run("models", "list", "--json").stdout)
    assert {"photorealistic", "anime"} <= {model["style"] for model in models}
    assert not any(model["loaded"] for model in models)


def test_variation_create_and_show(shell: Shell, tiny_sd15_path: Path) -> None:
    created = shell.run(
        "variation", "create", "tram-stop", "--prompt", "a tram stop", "--families", "sidebar",
        "--model", str(tiny_sd15_path), "--steps", "2", "--seed", "3",
    )  # fmt: skip
    assert "complete" in created.stdout
    shown = shell.run("variation", "show", "tram-stop").stdout
    assert "sidebar-sm" in shown
    assert (shell.cwd / "data" / "images" / "tram-stop" / "derivatives").is_dir()


def test_sets_batch_and_jobs(shell: Shell) -> None:
    assert "mini" in shell.run("sets", "list").stdout
    assert "Beta Square" in shell.run("sets", "show", "mini").stdout
    result = shell.run("batch", "--set", "mini", "--theme", "art nouveau", "--wait")
    assert result.stdout.count("succeeded") == 3
    (folder,) = (shell.cwd / "data" / "outputs").glob("mini_*")
    assert len(list(folder.glob("*.png"))) == 3

    listed = shell.run("jobs", "list", "--kind", "batch_item").stdout
    assert "3 of 3 jobs" in listed
    job_id = next(line.split()[1] for line in listed.splitlines() if "succeeded" in line)
    assert "succeeded" in shell.run("jobs", "show", job_id).stdout


def test_train_lora_a_few_steps(shell: Shell, tiny_sd15_path: Path) -> None:
    images = write_training_set(shell.cwd / "training-set")
    output = shell.cwd / "shapes.safetensors"
    result = shell.run(
        "train-lora", "--data", str(images), "--base", str(tiny_sd15_path),
        "--output", str(output), "--rank", "4", "--resolution", "64",
        "--max-steps", "2", "--device", "cpu",
    )  # fmt: skip
    assert "Saved LoRA" in result.stderr and "2 steps on 5 images" in result.stderr
    assert output.is_file()


def test_analyze_and_prompts_with_the_scripted_llm(shell: Shell) -> None:
    args = ["analyze", "--category", "bakery", "--city", "Lyon", "-f", "rustic"]
    config = json.loads(shell.run(*args, "--instance", str(EXAMPLES / "seo.yaml"), "--json").stdout)
    assert config["instanceName"] == "seo"
    assert len(config["reasoningChain"]) > 1
    prompts = shell.run("prompts", "--pipeline", "error-pages", "--count", "3").stdout
    assert prompts.count("error-pages #") == 3
    assert "error-pages" in shell.run("pipelines").stdout


def test_platform_commands(shell: Shell) -> None:
    assert "database at revision" in shell.run("db", "upgrade").stdout
    shown = yaml.safe_load(shell.run("config", "show").stdout)
    assert shown["llm"]["default_model"] == "tiny"  # config.yaml of the working directory
    key = shell.run("keys", "create", "--scope", "read", "--name", "ci").stdout.strip()
    assert key
    # As docs/operations.md and docs/ui.md show it.
    admin = shell.run("keys", "create", "--scope", "admin", "--name", "ops").stdout.strip()
    assert admin and admin != key
    listed = shell.run("keys", "list").stdout
    assert "ci" in listed and "ops" in listed
    assert "celery" in shell.run("worker", "--help").stdout.lower()


def test_chat_writes_the_image_and_prints_caption_and_prompt(
    shell: Shell, tiny_zimage_path: Path
) -> None:
    out = shell.cwd / "chat" / "shorts.png"
    result = shell.run(
        "chat", "--kind", "shorts", "a lighthouse on a cliff at dusk", "--model",
        str(tiny_zimage_path), "--seed", "3", "--output", str(out),
    )  # fmt: skip
    with Image.open(out) as image:
        assert image.format == "PNG" and image.size[0] > 0
    lines = result.stdout.splitlines()
    assert lines[0].startswith("caption: ") and lines[1].startswith("prompt: ")
    assert "seed: 3" in lines[2] and "policy: moderated" in lines[2]

    blocked = shell.run(
        "chat", "--kind", "1to1", "a naked child", "--model", str(tiny_zimage_path), ok=False
    )
    assert blocked.returncode == 1 and "error:" in blocked.stderr
    wrong = shell.run("chat", "--kind", "group", "a tree", ok=False)
    assert wrong.returncode == 1 and "--kind" in wrong.stderr
