"""The URL signer on its own: what a signature covers, and the secret file."""

from __future__ import annotations

import stat
import threading
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest

from imajin.errors import ConfigError
from imajin.storage.url_signing import UrlSigner, sign_urls, write_secret


def _query(url: str) -> list[tuple[str, str]]:
    return parse_qsl(urlsplit(url).query)


def test_a_signature_covers_path_and_query_in_any_order(tmp_path: Path) -> None:
    signer = UrlSigner(tmp_path / "key", active=lambda: True)
    url = signer.sign("/api/images/a/og?v=abc&x=1")
    path = urlsplit(url).path
    assert signer.verify(path, _query(url))
    assert signer.verify(path, list(reversed(_query(url))))  # a proxy may reorder
    pairs = _query(url)
    assert not signer.verify("/api/images/b/og", pairs)
    assert not signer.verify(path, [(k, "zzz" if k == "v" else v) for k, v in pairs])
    assert not signer.verify(path, [*pairs, ("extra", "1")])
    assert not signer.verify(path, [*pairs, ("sig", "again")])  # two signatures: none
    assert not signer.verify(path, [(k, v) for k, v in pairs if k != "sig"])


def test_absolute_urls_keep_their_origin_and_resigning_replaces_the_signature(
    tmp_path: Path,
) -> None:
    signer = UrlSigner(tmp_path / "key", active=lambda: True)
    url = signer.sign("https://cdn.example/api/images/a/og?v=1")
    assert url.startswith("https://cdn.example/api/images/a/og?v=1&sig=")
    assert signer.sign(url) == url  # signing twice gives one signature


def test_signing_is_off_with_auth_and_makes_no_secret(tmp_path: Path) -> None:
    signer = UrlSigner(tmp_path / "key", active=lambda: False)
    assert signer.signing()("/api/outputs/a.png") == "/api/outputs/a.png"
    assert not (tmp_path / "key").exists()


def test_concurrent_first_use_agrees_on_one_secret(tmp_path: Path) -> None:
    signers = [UrlSigner(tmp_path / "key", active=lambda: True) for _ in range(8)]
    urls: list[str] = []
    threads = [threading.Thread(target=lambda s=s: urls.append(s.sign("/api/x"))) for s in signers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(urls)) == 1
    assert stat.S_IMODE((tmp_path / "key").stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["key"]  # no temp file left


def test_rotation_and_a_damaged_secret(tmp_path: Path) -> None:
    signer = UrlSigner(tmp_path / "key", active=lambda: True)
    before = signer.sign("/api/x")
    write_secret(tmp_path / "key", replace=True)
    assert signer.sign("/api/x") != before
    (tmp_path / "key").write_text("short\n")
    with pytest.raises(ConfigError, match="rotate-url-secret"):
        signer.sign("/api/x")


def test_only_api_urls_in_a_result_are_signed() -> None:
    result = {
        "images": [{"imageUrl": "/api/outputs/a.png", "seed": 3}],
        "thumbnailUrl": "/api/outputs/t.webp",
        "homepageUrl": "https://example.com/",
        "note": "/api/outputs/a.png",
    }
    signed = sign_urls(result, lambda url: url + "#s")
    assert signed == {
        "images": [{"imageUrl": "/api/outputs/a.png#s", "seed": 3}],
        "thumbnailUrl": "/api/outputs/t.webp#s",
        "homepageUrl": "https://example.com/",
        "note": "/api/outputs/a.png",
    }


def test_a_signature_with_non_ascii_characters_is_refused_not_an_error(tmp_path: Path) -> None:
    signer = UrlSigner(tmp_path / "key", active=lambda: True)
    assert not signer.verify("/api/images/a/b", [("v", "1"), ("sig", "é" * 22)])
