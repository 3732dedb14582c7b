"""Every command a README or docs page shows in a code block runs in some test.

``COMMANDS`` lists each documented shell command (as written, comments and extra spaces
dropped) with the test that runs it as a real subprocess, or the reason no test can
(a GPU, an install). A command added to a ``bash``/``sh`` block without an entry here
fails :func:`test_every_documented_command_has_a_test`; a code block without a language
fails too, since the guard could not tell whether it holds commands.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHELL_LANGUAGES = frozenset({"bash", "sh", "shell", "console"})


@dataclass(frozen=True)
class Covered:
    """Run as a real subprocess by ``test`` (``tests/….py::test_name``)."""

    test: str


@dataclass(frozen=True)
class NotRun:
    """No test runs it here, for ``reason``."""

    reason: str


SERVE = "tests/cli/test_serve_examples.py"
GPU = "tests/benchmarks/test_bench_gpu.py"
COMMANDS: dict[str, Covered | NotRun] = {
    # README.md, docs/operations.md
    "make run": NotRun("installs into .venv first; `imajin serve` runs in tests/cli/test_cli.py"),
    "make test": NotRun("installs into .venv, then runs this suite"),
    ".venv/bin/imajin serve --help": Covered(
        f"{SERVE}::test_serve_help_names_host_port_and_insecure"
    ),
    "IMAJIN_DATABASE__URL=postgresql://imajin@db/imajin imajin serve": Covered(
        f"{SERVE}::test_database_url_serves_from_postgres"
    ),
    "IMAJIN_JOBS__WORKERS=2 IMAJIN_LOGGING__FORMAT=json imajin serve": Covered(
        f"{SERVE}::test_two_workers_and_json_logs"
    ),
    """IMAJIN_SERVER__CORS_ORIGINS='["https://studio.example.com"]' imajin serve""": Covered(
        f"{SERVE}::test_cors_origins_allow_the_studio"
    ),
    ".venv/bin/python -m benchmarks.jobs.bench_jobs --broker redis://127.0.0.1:6379/0": Covered(
        "tests/benchmarks/test_bench_jobs.py::test_local_celery_and_overload_report"
    ),
    ".venv/bin/python -m benchmarks.gateway.bench_gateway --broker redis://127.0.0.1:6379/0": (
        Covered(
            "tests/benchmarks/test_bench_gateway.py::test_stage_latencies_through_local_and_celery"
        )
    ),
    ".venv/bin/python -m benchmarks.api.bench_overload --unpaced": Covered(
        "tests/benchmarks/test_bench_overload.py"
        "::test_the_overload_benchmark_reports_every_phase_paced_and_unpaced"
    ),
    "make bench-engine": Covered(
        "tests/benchmarks/test_bench_engine.py::test_engine_and_plain_diffusers_make_the_same_pixels"
    ),
    # docs/operations.md, GPU throughput: the CPU smoke mode (--tiny) where one exists.
    "nvidia-smi": NotRun("needs an NVIDIA GPU"),
    "HF_HUB_OFFLINE=1 .venv/bin/python -m benchmarks.gpu.bench_gpu --output gpu-bench.md": (
        Covered(f"{GPU}::test_tiny_run_prints_a_row_per_model_variant_and_batch")
    ),
    "OUT=/tmp benchmarks/gpu/run_gpu.sh": NotRun("needs CUDA (it stops without nvidia-smi)"),
    ".venv/bin/python -m benchmarks.gpu.bench_gpu --models sdxl --batches 1,8": Covered(
        f"{GPU}::test_tiny_run_of_the_narrower_documented_selection"
    ),
    ".venv/bin/python -m benchmarks.gpu.bench_gpu --variants diffusers,engine,engine+compile": (
        NotRun("engine+compile compiles for minutes: past 4 minutes with --tiny on a CPU")
    ),
}


@dataclass(frozen=True)
class Shown:
    """One command of a code block: where it is, and its normalised text."""

    where: str
    command: str


def documented_pages() -> list[Path]:
    docs = sorted((ROOT / "docs").glob("*.md"))
    return [ROOT / "README.md", *docs, *sorted(ROOT.glob("clients/*/README.md"))]


def shell_commands(markdown: str, *, name: str) -> list[Shown]:
    """The commands of ``markdown``'s shell code blocks; a block with no language raises."""
    shown: list[Shown] = []
    language: str | None = None  # None: outside a code block
    pending = ""  # a command continued with a trailing backslash
    for number, line in enumerate(markdown.splitlines(), start=1):
        if line.lstrip().startswith("```"):
            if language is not None:
                language = None
                continue
            language = line.lstrip().removeprefix("```").strip()
            if not language:
                raise ValueError(f"{name}:{number}: a code block names no language (```bash …)")
            continue
        if language not in SHELL_LANGUAGES:
            continue
        text = pending + re.sub(r"(^|\s)#.*$", "", line).strip()
        if text.endswith("\\"):
            pending = text.removesuffix("\\") + " "
            continue
        pending = ""
        if text:
            shown.append(Shown(where=f"{name}:{number}", command=" ".join(text.split())))
    return shown


def all_shown() -> list[Shown]:
    return [
        shown
        for page in documented_pages()
        for shown in shell_commands(
            page.read_text(encoding="utf-8"), name=str(page.relative_to(ROOT))
        )
    ]


def test_every_documented_command_has_a_test() -> None:
    missing = [
        f"{shown.where}: {shown.command}" for shown in all_shown() if shown.command not in COMMANDS
    ]
    assert not missing, (
        "documented commands no test runs; add a test that runs each as a real subprocess "
        "(small sizes) and list it in COMMANDS in tests/test_docs_commands.py:\n"
        + "\n".join(missing)
    )


def test_each_listed_test_exists() -> None:
    for command, entry in COMMANDS.items():
        if isinstance(entry, Covered):
            path, _, name = entry.test.partition("::")
            source = (ROOT / path).read_text(encoding="utf-8")
            assert f"def {name}(" in source, f"{command}: {entry.test} does not exist"


def test_the_parser_reads_shell_blocks_only() -> None:
    markdown = "\n".join(
        [
            "```bash",
            "make run    # a comment",
            "# a whole-line comment",
            "imajin generate --prompt 'a fox' \\",
            "    --steps 2",
            "```",
            "```yaml",
            "key: value",
            "```",
        ]
    )
    commands = [shown.command for shown in shell_commands(markdown, name="x.md")]
    assert commands == ["make run", "imajin generate --prompt 'a fox' --steps 2"]
    try:
        shell_commands("```\nmake run\n```", name="x.md")
    except ValueError as error:
        assert "x.md:1" in str(error)
    else:
        raise AssertionError("a block with no language must be refused")
