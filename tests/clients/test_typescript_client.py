"""The TypeScript client (clients/typescript): its generated files are fresh, and its
Node test suite passes against a live `imajin serve` on tiny models.

The server is a real subprocess over a data folder with a tiny manifest; its LLMs are
the shipped ``scripted`` backend (minimal schema-shaped answers for the assistant,
scripted ones for the chat), its vision model a local OpenAI-protocol server answering
an adult's features (so profile analyze/create run for real on a real portrait), and
API keys are on so the client's key and signed URLs are exercised. Node's tools come
from ``npm ci`` in the client folder (``make ts-deps``); without Node or them, these
tests fail saying what to install.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from fastapi.testclient import TestClient

from imajin.codegen.typescript import SIZES
from imajin.imaging.sizes import all_derivatives
from imajin.keys.models import hash_key
from imajin.llm.testing import FakeOpenAIServer, schema_answer
from imajin.safety.negative import (
    INDEXABLE_NEGATIVE_PROMPTS,
    PLATFORM_NEGATIVE_PROMPTS,
    build_negative_prompt,
)
from imajin.testing.manifest import write_tiny_manifest
from tests.conftest import free_port
from tests.profile.conftest import astronaut_jpeg, vision_config

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
CLIENT = ROOT / "clients" / "typescript"
API_KEY = "ts-client-test-key"
EXPANSION = "a lighthouse on a rocky cliff at dusk, warm light, calm sea"
CAPTION = "A quiet lighthouse glows on the cliff as the evening sea rests"

# (model, mode, extra_terms, override): spacing, case, Unicode folding, empty overrides.
NEGATIVE_CASES: list[tuple[str, str, str | list[str], str | list[str] | None]] = [
    ("photorealistic", "platform", "", None),
    ("anime", "platform", "", None),
    ("photorealistic", "indexable", "", None),
    ("anime", "indexable", "", None),
    ("photorealistic", "platform", "neon, Blurry ,  , LOW   quality", None),
    ("anime", "platform", ["bad hands", "extra arms, Child"], None),
    ("photorealistic", "platform", "", ""),
    ("photorealistic", "indexable", "text", "grainy, washed out, Grainy"),
    ("anime", "indexable", "", ["STRASSE", "straße", "Straße"]),
    ("photorealistic", "platform", "\ufb01sh, fish, fish\u00a0tank, fish tank", None),
    ("anime", "platform", "\u3000teen\u3000, final \u03c3, FINAL \u03c2, \x1cdup\x1c, dup", None),
]


def _npm() -> Path:
    npm = shutil.which("npm")
    # Failures, not skips: `make test` installs the npm tools, so a missing one is a
    # broken set-up that would otherwise pass the client untested.
    if npm is None or shutil.which("node") is None:
        pytest.fail("Node.js is not installed (the TypeScript client needs node >= 20 and npm)")
    if not (CLIENT / "node_modules" / ".bin" / "tsc").exists():
        pytest.fail("the TypeScript client's npm packages are missing: run `make ts-deps`")
    return Path(npm)


def _imajin(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # this interpreter, our own CLI
        [sys.executable, "-m", "imajin", *args],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


def test_dev_openapi_writes_what_a_default_server_serves(
    tmp_path: Path, client: TestClient
) -> None:
    out = tmp_path / "openapi.json"
    written = _imajin("dev", "openapi", "--out", str(out))
    assert written.returncode == 0, written.stderr
    assert json.loads(out.read_text(encoding="utf-8")) == client.get("/openapi.json").json()


def test_the_generated_files_are_fresh_and_a_stale_one_is_caught(tmp_path: Path) -> None:
    _npm()
    fresh = _imajin("dev", "ts-client", str(CLIENT), "--check")
    assert fresh.returncode == 0, fresh.stderr
    assert "up to date" in fresh.stdout

    # A copy whose size matrix was edited by hand (node_modules shared, not copied).
    copy = tmp_path / "client"
    shutil.copytree(CLIENT, copy, ignore=shutil.ignore_patterns("node_modules", "dist", ".*"))
    (copy / "node_modules").symlink_to(CLIENT / "node_modules")
    sizes = copy / SIZES
    sizes.write_text(sizes.read_text(encoding="utf-8").replace("256", "255"), encoding="utf-8")
    stale = _imajin("dev", "ts-client", str(copy), "--check")
    assert stale.returncode == 1
    assert SIZES in stale.stderr
    assert "make ts-client" in stale.stderr

    rewritten = _imajin("dev", "ts-client", str(copy))
    assert rewritten.returncode == 0, rewritten.stderr
    assert sizes.read_text(encoding="utf-8") == (CLIENT / SIZES).read_text(encoding="utf-8")


def _expected() -> dict[str, Any]:
    """What the Python code answers, for the Node tests to compare with."""
    negative = [
        {
            "model": model,
            "mode": mode,
            "extraTerms": extra,
            "override": override,
            "expected": build_negative_prompt(model, mode, extra_terms=extra, override=override),
        }
        for model, mode, extra, override in NEGATIVE_CASES
    ]
    derivatives = [
        {"name": d.name, "family": d.family, "width": d.size.width, "height": d.size.height}
        for d in all_derivatives()
    ]
    return {
        "negative": negative,
        "platform": dict(PLATFORM_NEGATIVE_PROMPTS),
        "indexable": dict(INDEXABLE_NEGATIVE_PROMPTS),
        "derivatives": derivatives,
    }


def _config(vision_url: str) -> dict[str, Any]:
    chat_answers = [json.dumps({"prompt": EXPANSION}), json.dumps({"caption": CAPTION})] * 3
    vision = vision_config(vision_url)
    return {
        "assistant": {"instances": {"seo": str(ROOT / "examples" / "instances" / "seo.yaml")}},
        "auth": {"keys": [{"id": "ts", "hash": hash_key(API_KEY), "scopes": ["admin"]}]},
        "engine": {
            "defaults": {"photorealistic": "tiny-sd15", "anime": "tiny-sd15"},
            "device": "cpu",
            "cpu_threads": 1,
        },
        "jobs": {"poll_interval_s": 0.05},
        "llm": {
            "default_model": "minimal",
            "models": {
                "minimal": {"backend": "scripted", "options": {}},
                "chat": {"backend": "scripted", "options": {"answers": chat_answers}},
                **vision["llm"]["models"],
            },
        },
        "vision": vision["vision"],
        "gateway": {"model": "tiny-zimage", "llm_model": "chat"},
    }


@pytest.fixture
def vision_model() -> Iterator[FakeOpenAIServer]:
    """The server's vision model: every feature question answered with an adult age band."""
    with FakeOpenAIServer(respond=schema_answer(age_band="26_35")) as server:
        yield server


@pytest.fixture
def served(
    tmp_path: Path,
    tiny_sd15_path: Path,
    tiny_zimage_path: Path,
    vision_model: FakeOpenAIServer,
) -> Iterator[str]:
    """`imajin serve` as a real process over tiny models; yields its URL."""
    data = tmp_path / "data"
    write_tiny_manifest(data, {"tiny-sd15": tiny_sd15_path, "tiny-zimage": tiny_zimage_path})
    config = _config(vision_model.base_url)
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    port = free_port()
    log = (tmp_path / "serve.log").open("w", encoding="utf-8")
    process = subprocess.Popen(  # this interpreter, our own CLI
        [sys.executable, "-m", "imajin", "serve", "--port", str(port)],
        env={**_without_imajin(os.environ), "IMAJIN_DATA_DIR": str(data)},
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while not _answers(url):
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError((tmp_path / "serve.log").read_text(encoding="utf-8"))
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def _without_imajin(environ: Mapping[str, str]) -> dict[str, str]:
    """The environment less IMAJIN_* settings: the server reads only its config.yaml."""
    return {key: value for key, value in environ.items() if not key.startswith("IMAJIN_")}


def _answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


@pytest.mark.timeout(600)
def test_the_node_suite_passes_against_a_live_server(
    served: str, tmp_path: Path, vision_model: FakeOpenAIServer
) -> None:
    npm = _npm()
    expected = tmp_path / "expected.json"
    expected.write_text(json.dumps(_expected()), encoding="utf-8")
    selfie = tmp_path / "selfie.jpg"
    selfie.write_bytes(astronaut_jpeg())
    env = {
        **os.environ,
        "IMAJIN_URL": served,
        "IMAJIN_API_KEY": API_KEY,
        "IMAJIN_MODEL": "tiny-sd15",
        "IMAJIN_EXPECTED": str(expected),
        "IMAJIN_SELFIE": str(selfie),
    }
    # `npm test` as the README shows it: tsc over src and test, then node --test.
    ran = subprocess.run(  # npm from PATH, the client's own script
        [str(npm), "test", "--silent"],
        cwd=CLIENT,
        capture_output=True,
        text=True,
        timeout=540,
        check=False,
        env=env,
    )
    report = ran.stdout + ran.stderr
    assert ran.returncode == 0, report
    assert "\u2139 fail 0" in report, report
    # Every test ran: none skipped for a missing server, answer file or selfie.
    assert "\u2139 skipped 0" in report, report
    assert "\u2714 against a live imajin serve" in report, report
    assert "\u2714 profile endpoints" in report, report
    # The profile calls reached the vision model: analyze, create (generate takes features).
    assert len(vision_model.requests) >= 2, vision_model.requests
