"""The UI's static serving: content types, cache headers, versioned URLs, no escapes."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from imajin.api.routers.web import IMMUTABLE, bundle, content_security_policy
from imajin.config.settings import Scope
from imajin.wiring import Platform


def test_index_is_served_uncached_with_versioned_asset_urls(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["cache-control"] == "no-cache"
    assert "script-src" not in response.headers["content-security-policy"]  # default-src 'self'
    assert "default-src 'self'" in response.headers["content-security-policy"]
    version = bundle().version
    assert f'src="/static/{version}/js/main.js"' in response.text
    assert "{{static}}" not in response.text


def test_every_asset_the_page_names_is_served_for_a_year(client: TestClient) -> None:
    page = client.get("/").text
    urls = re.findall(r'(?:href|src)="(/static/[^"]+)"', page)
    assert len(urls) >= 5
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers["cache-control"] == IMMUTABLE
        assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(
    ("path", "media_type"),
    [
        ("js/main.js", "text/javascript; charset=utf-8"),
        ("js/views/gallery.js", "text/javascript; charset=utf-8"),
        ("css/base.css", "text/css; charset=utf-8"),
        ("icon.svg", "image/svg+xml"),
    ],
)
def test_content_types(client: TestClient, path: str, media_type: str) -> None:
    response = client.get(f"/static/{bundle().version}/{path}")
    assert response.headers["content-type"] == media_type


def test_unversioned_and_stale_urls_revalidate_and_etags_answer_304(client: TestClient) -> None:
    plain = client.get("/static/js/main.js")
    assert plain.status_code == 200 and plain.headers["cache-control"] == "no-cache"
    stale = client.get("/static/0123456789ab/js/main.js")
    assert stale.status_code == 200 and stale.headers["cache-control"] == "no-cache"
    assert stale.content == plain.content
    again = client.get("/static/js/main.js", headers={"If-None-Match": plain.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    head = client.head("/static/js/main.js")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == str(len(plain.content))


@pytest.mark.parametrize(
    "path",
    [
        "../router.py",
        "..%2Frouter.py",
        "%2e%2e/router.py",
        "js/../../router.py",
        "/etc/passwd",
        "js/",
        "nope.js",
        "__init__.py",
        "..\\\\router.py",
    ],
)
def test_nothing_outside_the_shipped_assets_is_served(client: TestClient, path: str) -> None:
    response = client.get(f"/static/{path}")
    assert response.status_code in (404, 400), path
    assert b"from __future__" not in response.content and b"root:" not in response.content


def test_page_needs_no_key_when_auth_is_on(client: TestClient, platform: Platform) -> None:
    platform.keys.create(scopes=[Scope.READ], name="someone")
    assert client.get("/api/batches").status_code == 401
    assert client.get("/").status_code == 200
    assert client.get(f"/static/{bundle().version}/js/api.js").status_code == 200


def test_csp_allows_images_from_the_cdn_origin_only() -> None:
    csp = content_security_policy("https://cdn.example.com/img/")
    assert "img-src 'self' blob: data: https://cdn.example.com;" in csp
    assert "cdn" not in content_security_policy("")
