"""``GET /api/outputs/{path}`` serves files under the outputs root and nothing else.

Requests go out byte for byte over a raw socket (``http.client``), because
HTTP client libraries tidy ``..`` and escapes away before sending.
"""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from pathlib import Path

import pytest

from imajin.api.app import create_app
from imajin.config.loader import load_settings
from imajin.store.migrate import upgrade
from imajin.wiring import build_platform
from tests.conftest import LiveServer

SECRET = b"TOP-SECRET-do-not-serve"

HOSTILE = [
    "../secret.txt",
    "../../../../etc/passwd",
    "batch/../../secret.txt",
    "batch/%2e%2e/%2e%2e/secret.txt",
    "%2e%2e/secret.txt",
    "%2e%2e%2fsecret.txt",
    "..%2fsecret.txt",
    ".%2e/secret.txt",
    "%252e%252e/secret.txt",
    "%252e%252e%252fsecret.txt",
    "..%5csecret.txt",
    "..\\secret.txt",
    "batch\\..\\..\\secret.txt",
    "/etc/passwd",
    "%2fetc%2fpasswd",
    "C:/Windows/win.ini",
    "C:%5cWindows%5cwin.ini",
    "~/secret.txt",
    "..%00/secret.txt",
    "batch/image.png%00.json",
    "%ef%bc%8e%ef%bc%8e/secret.txt",
    "%e2%80%a5/secret.txt",
    "..%e2%88%95secret.txt",
    "..%ef%bc%8fsecret.txt",
    "%c0%ae%c0%ae/secret.txt",
    "....//secret.txt",
    "..;/secret.txt",
    "link/secret.txt",
    "leak.png",
    ".hidden.png",
    "batch//image.png",
    "batch/image.png/..",
    "",
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, Path]]:
    tmp_path = tmp_path_factory.mktemp("outputs-security")
    data = tmp_path / "data"
    outputs = data / "outputs"
    (outputs / "batch").mkdir(parents=True)
    (outputs / "batch" / "image.png").write_bytes(b"\x89PNG fine")
    (outputs / "batch" / "image.json").write_text('{"seed": 1}', encoding="utf-8")
    (outputs / "batch" / "notes.txt").write_text("not an output type", encoding="utf-8")
    (outputs / ".hidden.png").write_bytes(SECRET)
    (data / "secret.txt").write_bytes(SECRET)
    (data / "secret.png").write_bytes(SECRET)
    (outputs / "link").symlink_to(data)  # a folder link that leads out
    (outputs / "leak.png").symlink_to(data / "secret.png")  # a file link that leads out
    platform = build_platform(load_settings(environ={"IMAJIN_DATA_DIR": str(data)}, cwd=tmp_path))
    upgrade(platform.database)
    with LiveServer(create_app(platform)) as live:
        yield live, data
    platform.close()


def raw_get(live: LiveServer, target: str) -> tuple[int, bytes, str]:
    connection = http.client.HTTPConnection("127.0.0.1", live.port, timeout=10)
    try:
        connection.putrequest("GET", target, skip_accept_encoding=True)
        connection.endheaders()
        response = connection.getresponse()
        return response.status, response.read(), response.getheader("content-type") or ""
    finally:
        connection.close()


def test_there_are_at_least_twenty_hostile_paths() -> None:
    assert len(set(HOSTILE)) == len(HOSTILE) >= 20


@pytest.mark.parametrize("path", HOSTILE)
def test_hostile_paths_never_escape(server: tuple[LiveServer, Path], path: str) -> None:
    live, _ = server
    status, body, _ = raw_get(live, "/api/outputs/" + path)
    assert status in (400, 404), (status, body)
    assert SECRET not in body
    assert b"root:" not in body


def test_outputs_are_served_with_their_types(server: tuple[LiveServer, Path]) -> None:
    live, _ = server
    status, body, kind = raw_get(live, "/api/outputs/batch/image.png")
    assert (status, body, kind) == (200, b"\x89PNG fine", "image/png")
    status, body, kind = raw_get(live, "/api/outputs/batch/image.json")
    assert (status, kind) == (200, "application/json") and body == b'{"seed": 1}'
    # Only output types are served, and a miss is a plain 404.
    assert raw_get(live, "/api/outputs/batch/notes.txt")[0] == 404
    assert raw_get(live, "/api/outputs/batch/missing.png")[0] == 404
    assert raw_get(live, "/api/outputs/batch")[0] == 404
