"""Fetch a manifest model into the Hugging Face cache (``imajin models pull ID``).

The files are the ones ``from_pretrained`` reads: ``model_index.json`` and each
component folder's configs, tokenizer files and ``.safetensors`` weights of the
model's variant (no pickled ``.bin``/``.ckpt``, no single-file copies at the repo
root). Each file goes through ``hf_hub_download``, which resumes a partial file
(its ``.incomplete`` blob, by an HTTP Range request) and checks sizes; a last
``snapshot_download`` pass over the same files, all cached by then, records the
revision's ref, so the engine then loads the model offline by id.

The hub is the one ``HF_ENDPOINT`` names (read at call time), else huggingface.co.
``HF_HUB_OFFLINE=1`` keeps everything else off the network; a pull is an explicit
request for the network, so it lifts offline mode for its own calls.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import httpx2  # huggingface_hub's HTTP client: its transport errors mean "hub unreachable"
from huggingface_hub import HfApi, constants, hf_hub_download, snapshot_download
from huggingface_hub.errors import (
    HfHubHTTPError,
    LocalEntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)
from huggingface_hub.hf_api import RepoFile
from huggingface_hub.utils.tqdm import tqdm as hub_tqdm

from imajin.engine.spec import ModelSpec
from imajin.errors import InvalidInput, NotFound, ServiceUnavailable, UpstreamError

DEFAULT_REVISION = "main"
# Files a diffusers component folder needs besides its weights.
_COMPONENT_FILES = (".json", ".txt", ".model")
_WEIGHTS = ".safetensors"
_VARIANTS = ("fp16", "bf16", "fp32", "non_ema", "ema_only")
_offline_lock = threading.Lock()


class HubUnreachable(ServiceUnavailable):
    """The hub a pull needs could not be reached (DNS, refused, timed out, cut off)."""

    code = "hub_unreachable"


@dataclass(frozen=True)
class PullProgress:
    """How far a pull is: bytes of all its files, and the file being fetched."""

    model_id: str
    file: str
    done_bytes: int
    total_bytes: int
    files_done: int
    files_total: int


@dataclass(frozen=True)
class PullResult:
    """A finished pull: what was fetched, from which commit, and where it lies."""

    model_id: str
    repo_id: str
    revision: str
    commit: str
    files: list[str]
    total_bytes: int
    snapshot: Path

    def to_dict(self) -> dict[str, Any]:
        return {
            "modelId": self.model_id,
            "repoId": self.repo_id,
            "revision": self.revision,
            "commit": self.commit,
            "files": self.files,
            "totalBytes": self.total_bytes,
        }


PullCallback = Callable[[PullProgress], None]


def hub_endpoint() -> str:
    """The hub pulls go to: ``HF_ENDPOINT`` as the process sees it now, else huggingface.co."""
    return (os.environ.get("HF_ENDPOINT") or constants.ENDPOINT).rstrip("/")


def _variant_of(name: str) -> str | None:
    parts = name.split(".")
    for variant in _VARIANTS:
        if variant in parts or any(part.startswith(f"{variant}-") for part in parts):
            return variant
    return None


def select_files(paths: list[str], *, variant: str | None) -> list[str]:
    """The files of a diffusers repo that ``from_pretrained`` reads for ``variant``.

    Per component folder: its configs and tokenizer files, and its ``.safetensors``
    weights (with their shard indexes) of ``variant`` when the folder has that
    variant, else those with no variant. Root files other than ``model_index.json``
    are left out (READMEs, single-file checkpoint copies).
    """
    by_folder: dict[str, list[str]] = {}
    for path in paths:
        folder = str(PurePosixPath(path).parent)
        if folder != ".":
            by_folder.setdefault(folder, []).append(path)
    chosen = [path for path in paths if path == "model_index.json"]
    for files in by_folder.values():
        weights = [f for f in files if f.endswith(_WEIGHTS) or ".safetensors.index" in f]
        has_variant = variant is not None and any(_variant_of(f) == variant for f in weights)
        wanted = variant if has_variant else None
        chosen += [f for f in weights if _variant_of(f) == wanted]
        chosen += [f for f in files if f not in weights and f.endswith(_COMPONENT_FILES)]
    return sorted(chosen)


@contextmanager
def _online() -> Iterator[None]:
    """Lift ``HF_HUB_OFFLINE`` for this pull's hub calls (the hub reads it per request).

    Process-wide while it lasts: the engine's own loads stay offline regardless, since
    they pass ``local_files_only`` from ``engine.offline``.
    """
    with _offline_lock:
        was = constants.HF_HUB_OFFLINE
        constants.HF_HUB_OFFLINE = False
        try:
            yield
        finally:
            constants.HF_HUB_OFFLINE = was


def _byte_counter(on_bytes: Callable[[int], None]) -> type:
    """A ``tqdm_class`` for ``hf_hub_download`` that reports bytes instead of drawing.

    The hub creates it with ``total``/``initial`` (bytes already in a resumed partial file)
    and calls ``update(n)`` per chunk (negative when a server ignored a Range request).
    """

    class ByteCounter:
        def __init__(self, *_args: Any, initial: int = 0, **_kwargs: Any) -> None:
            if initial:
                on_bytes(int(initial))

        def __enter__(self) -> ByteCounter:
            return self

        def __exit__(self, *_exc: object) -> None:
            return None

        def update(self, n: float | None = 1) -> None:
            on_bytes(int(n or 0))

        def close(self) -> None:
            return None

    return ByteCounter


class _Quiet(hub_tqdm):
    """The hub's own bars, never drawn (imajin reports progress through its callback)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["disable"] = True
        super().__init__(*args, **kwargs)  # type: ignore[no-untyped-call]  # tqdm is untyped


def hub_repo_of(spec: ModelSpec) -> str:
    """The hub repo ``spec`` is pulled from.

    Raises:
        InvalidInput: Its source is a local path or a single hub file.
    """
    source = spec.parsed_source
    if source.kind != "repo":
        where = "a local path" if source.is_local else "a single hub file"
        raise InvalidInput(
            f"model {spec.id!r}: its source {source.location!r} is {where}; `models pull` fetches "
            "hub repos (owner/name) only",
            field="model",
        )
    return source.location


class _Tally:
    """Bytes done across files, for one pull's progress callback."""

    def __init__(self, *, spec: ModelSpec, sizes: Mapping[str, int], report: PullCallback) -> None:
        self._spec = spec
        self._sizes = sizes
        self._report = report
        self._finished_bytes = 0
        self._current = 0
        self.files_done = 0
        self.file = ""

    def start(self, name: str) -> None:
        self.file, self._current = name, 0

    def add(self, n: int) -> None:
        self._current += n
        self._send()

    def finish(self) -> None:
        self._finished_bytes += self._sizes[self.file]
        self._current = 0
        self.files_done += 1
        self._send()

    def _send(self) -> None:
        self._report(
            PullProgress(
                model_id=self._spec.id,
                file=self.file,
                done_bytes=self._finished_bytes + self._current,
                total_bytes=sum(self._sizes.values()),
                files_done=self.files_done,
                files_total=len(self._sizes),
            )
        )


def pull_model(
    spec: ModelSpec,
    *,
    cache_dir: Path | None,
    on_progress: PullCallback | None = None,
) -> PullResult:
    """Download ``spec``'s hub repo into the Hugging Face cache (resuming partial files).

    Raises:
        InvalidInput: The source is not a hub repo.
        HubUnreachable: The hub could not be reached; the message names the endpoint.
        NotFound: The hub has no such repo or revision.
        UpstreamError: The hub answered with another error.
    """
    repo_id = hub_repo_of(spec)
    revision = spec.revision or DEFAULT_REVISION
    endpoint = hub_endpoint()
    cache = str(cache_dir) if cache_dir is not None else None
    try:
        with _online():
            api = HfApi(endpoint=endpoint)
            commit = api.repo_info(repo_id, revision=revision).sha
            if commit is None:
                raise UpstreamError(f"{endpoint} sent no commit for {repo_id}@{revision}")
            tree = api.list_repo_tree(repo_id, recursive=True, revision=commit)
            sizes_all = {f.path: f.size for f in tree if isinstance(f, RepoFile)}
            files = select_files(list(sizes_all), variant=spec.variant)
            if "model_index.json" not in files:
                raise InvalidInput(
                    f"model {spec.id!r}: {repo_id} on {endpoint} has no model_index.json, so it "
                    "is not a diffusers pipeline repo; point `source` at one",
                    field="model",
                )
            sizes = {name: sizes_all[name] for name in files}
            tally = _Tally(spec=spec, sizes=sizes, report=on_progress or (lambda _p: None))
            counter = _byte_counter(tally.add)
            for name in files:
                tally.start(name)
                hf_hub_download(
                    repo_id,
                    name,
                    revision=commit,
                    cache_dir=cache,
                    endpoint=endpoint,
                    tqdm_class=counter,
                )
                tally.finish()
            # Every file is cached: this pass downloads nothing and records refs/<revision>.
            snapshot = snapshot_download(
                repo_id,
                revision=revision,
                cache_dir=cache,
                endpoint=endpoint,
                allow_patterns=files,
                tqdm_class=_Quiet,
            )
    except (RepositoryNotFoundError, RevisionNotFoundError) as exc:
        raise NotFound(
            f"model {spec.id!r}: {endpoint} has no repo {repo_id} at revision {revision!r}; fix "
            "`source`/`revision` in the manifest",
            field="model",
        ) from exc
    except (httpx2.TransportError, LocalEntryNotFoundError) as exc:
        raise HubUnreachable(
            f"model {spec.id!r}: cannot reach the Hugging Face hub at {endpoint} (HF_ENDPOINT) to "
            f"fetch {repo_id} ({type(exc).__name__}: {exc}). Check the network or set HF_ENDPOINT "
            "to a reachable mirror; files already fetched are kept and a new pull resumes."
        ) from exc
    except HfHubHTTPError as exc:
        raise UpstreamError(
            f"model {spec.id!r}: {endpoint} refused {repo_id}: {exc}",
            status=exc.response.status_code if exc.response is not None else None,
        ) from exc
    return PullResult(
        model_id=spec.id,
        repo_id=repo_id,
        revision=revision,
        commit=commit,
        files=files,
        total_bytes=sum(sizes.values()),
        snapshot=Path(snapshot),
    )
