"""A local Hugging Face hub serving folders as model repos, for pull tests (a protocol peer).

It answers the requests ``huggingface_hub`` makes to download a repo, in the hub's
HTTP layout, so ``imajin models pull`` runs unchanged with ``HF_ENDPOINT`` at it:

- ``GET /api/models/{repo}/revision/{rev}``: the repo's info (``sha``, ``siblings``);
- ``GET /api/models/{repo}/tree/{rev}``: its files (path, size, oid; ``recursive``);
- ``HEAD|GET /{repo}/resolve/{rev}/{file}``: a file, with the headers the client reads
  (``X-Repo-Commit``, ``ETag``, ``Content-Length``) and ``Range`` requests answered 206.

``break_once`` names files whose first full download is cut off halfway (the
connection closes with bytes still owed), to test that a download resumes.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

_RANGE = re.compile(r"^bytes=(\d+)-(\d*)$")


@dataclass
class HubRepo:
    """A folder served as a repo at one commit."""

    folder: Path
    commit: str
    revisions: tuple[str, ...] = ("main",)

    def files(self) -> dict[str, Path]:
        return {
            p.relative_to(self.folder).as_posix(): p
            for p in sorted(self.folder.rglob("*"))
            if p.is_file()
        }


@dataclass
class HubLog:
    """What the fake hub was asked, for tests to check (method, path, Range header)."""

    requests: list[tuple[str, str, str | None]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, method: str, path: str, range_header: str | None) -> None:
        with self.lock:
            self.requests.append((method, path, range_header))

    def ranges_for(self, file: str) -> list[str]:
        """The Range headers of the GETs of ``file`` (resumed downloads send one)."""
        with self.lock:
            return [r for m, p, r in self.requests if m == "GET" and p.endswith(f"/{file}") and r]


class FakeHub:
    """A threaded HTTP server speaking the hub's download protocol; a context manager.

    Args:
        repos: Repo id (``owner/name``) → its folder and commit.
        break_once: Repo-relative file paths cut off halfway on their first full GET.
    """

    def __init__(self, repos: dict[str, HubRepo], *, break_once: Iterable[str] = ()) -> None:
        self.repos = repos
        self.log = HubLog()
        self._broken: set[str] = set(break_once)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> FakeHub:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def take_break(self, file: str) -> bool:
        """Whether this GET of ``file`` is the one to cut off (once per file)."""
        with self.log.lock:
            if file in self._broken:
                self._broken.discard(file)
                return True
            return False

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        hub = self

        class Handler(_HubHandler):
            fake = hub

        return Handler


def _etag(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class _HubHandler(BaseHTTPRequestHandler):
    fake: FakeHub
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return None  # quiet: tests read ``FakeHub.log``

    def do_GET(self) -> None:
        self._answer(send_body=True)

    def do_HEAD(self) -> None:
        self._answer(send_body=False)

    def _answer(self, *, send_body: bool) -> None:
        path = unquote(urlsplit(self.path).path)
        self.fake.log.add(self.command, path, self.headers.get("Range"))
        if path.startswith("/api/models/"):
            self._api(path.removeprefix("/api/models/"))
            return
        self._resolve(path.lstrip("/"), send_body=send_body)

    def _find(self, rest: str, marker: str) -> tuple[str, HubRepo, str, str] | None:
        """``owner/name<marker>rev/tail`` → (repo id, repo, rev, tail)."""
        repo_id, found, after = rest.partition(marker)
        repo = self.fake.repos.get(repo_id)
        if not found or repo is None:
            return None
        revision, _, tail = after.partition("/")
        if revision not in (repo.commit, *repo.revisions):
            return None
        return repo_id, repo, revision, tail

    def _api(self, rest: str) -> None:
        if found := self._find(rest, "/revision/"):
            repo_id, repo, _, _ = found
            siblings = [{"rfilename": name} for name in repo.files()]
            self._json(
                {"id": repo_id, "modelId": repo_id, "sha": repo.commit, "siblings": siblings}
            )
        elif found := self._find(rest, "/tree/"):
            _, repo, _, _ = found
            entries: list[dict[str, Any]] = []
            folders = {str(Path(n).parent) for n in repo.files()} - {"."}
            entries += [{"type": "directory", "path": f, "oid": "0" * 40} for f in sorted(folders)]
            for name, file in repo.files().items():
                size = file.stat().st_size
                oid = hashlib.sha1(file.read_bytes(), usedforsecurity=False).hexdigest()
                entries.append({"type": "file", "path": name, "size": size, "oid": oid})
            self._json(entries)
        else:
            self._error(404, "RepoNotFound", "Repository not found")

    def _resolve(self, rest: str, *, send_body: bool) -> None:
        found = self._find(rest, "/resolve/")
        file = found[1].files().get(found[3]) if found else None
        if found is None or file is None:
            self._error(404, "EntryNotFound", "Entry not found")
            return
        data = file.read_bytes()
        start, status = 0, 200
        if match := _RANGE.match(self.headers.get("Range", "")):
            start, status = int(match[1]), 206
        body = data[start:]
        self.send_response(status)
        self.send_header("X-Repo-Commit", found[1].commit)
        self.send_header("ETag", f'"{_etag(file)}"')
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Accept-Ranges", "bytes")
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        self.end_headers()
        if not send_body:
            return
        if start == 0 and len(body) > 1 and self.fake.take_break(found[3]):
            # Owe the rest: the client sees the connection end early and must resume.
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)

    def _json(self, value: Any) -> None:
        raw = json.dumps(value).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def _error(self, status: int, code: str, message: str) -> None:
        raw = json.dumps({"error": message}).encode()
        self.send_response(status)
        self.send_header("X-Error-Code", code)
        self.send_header("X-Error-Message", message)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)
