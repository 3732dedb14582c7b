"""`imajin analyze` / `prompts` / `pipelines` in-process, with the scripted backend from config."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from imajin.cli.assistant_commands import register
from tests.assistant.conftest import EXAMPLES

CONFIG = """
llm:
  default_model: tiny
  models:
    tiny: {backend: scripted}
"""


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> typer.Typer:
    """A root command with the assistant commands, configured with a scripted LLM."""
    monkeypatch.chdir(tmp_path)
    for name in [name for name in os.environ if name.startswith("IMAJIN_")]:
        monkeypatch.delenv(name)
    (tmp_path / "config.yaml").write_text(CONFIG)
    monkeypatch.setenv("IMAJIN_DATA_DIR", str(tmp_path / "data"))
    app = typer.Typer()

    @app.callback()
    def root() -> None:
        """imajin"""

    register(app)
    return app


def test_analyze_prints_the_chain_stage_by_stage(cli: typer.Typer) -> None:
    args = ["analyze", "--category", "bakery", "--city", "Lyon", "-f", "rustic"]
    result = CliRunner().invoke(cli, [*args, "--instance", str(EXAMPLES / "seo.yaml")])

    assert result.exit_code == 0, result.output
    for stage in ("1. term_analysis", "weighted_hierarchy", "extraction.custom", "prompt_writing"):
        assert stage in result.output
    assert "decision" in result.output and "instance" in result.output

    again = CliRunner().invoke(cli, [*args, "--instance", str(EXAMPLES / "seo.yaml"), "--json"])
    config = json.loads(again.stdout)
    assert config["instanceName"] == "seo"
    assert all(step["cached"] for step in config["reasoningChain"])  # the store kept them


def test_prompts_and_pipelines(cli: typer.Typer) -> None:
    result = CliRunner().invoke(cli, ["prompts", "--pipeline", "error-pages", "--count", "3"])
    assert result.exit_code == 0, result.output
    assert result.output.count("error-pages #") == 3
    assert "clearly adult proportions" in result.output

    seo = ["prompts", "-p", "seo-location", "-i", "category=bakery", "-i", "city=Lyon", "--json"]
    [prompt] = json.loads(CliRunner().invoke(cli, seo).stdout)
    assert prompt["model"] == "photorealistic"

    listed = CliRunner().invoke(cli, ["pipelines"])
    assert "error-pages" in listed.output and "city*" in listed.output


def test_analyze_without_an_instance_fails_saying_how(cli: typer.Typer) -> None:
    result = CliRunner().invoke(cli, ["analyze", "--category", "bakery"])

    assert result.exit_code != 0
    assert "instanceConfig" in str(result.exception)
