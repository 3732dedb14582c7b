"""API-key authentication and scope checks.

Auth is on as soon as one key exists (in the database or in ``auth.keys``).
A key goes in ``Authorization: Bearer <key>`` or ``X-API-Key: <key>``. Image
routes also admit a URL the API signed (``?sig=``, SPEC §3.2) without a key.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Annotated

from fastapi import Depends, Header, Query, Request

from imajin.api.deps import PlatformDep
from imajin.config.settings import Scope, Settings
from imajin.errors import ConfigError, Forbidden, Unauthorized
from imajin.keys.models import ApiKey, expand_scopes
from imajin.storage.url_signing import SIGNATURE_PARAM

Authenticated = ApiKey | None  # None: auth is off (no keys configured)


def _presented_key(authorization: str | None, x_api_key: str | None) -> str | None:
    if x_api_key:
        return x_api_key.strip()
    if authorization:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return token.strip()
    return None


@cache  # one function per scope, so FastAPI runs it once per request however often it is used
def require(scope: Scope) -> Callable[..., Authenticated]:
    """A dependency that admits a request holding ``scope`` (or a wider one)."""

    def check(
        platform: PlatformDep,
        authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
        x_api_key: Annotated[str | None, Header(include_in_schema=False)] = None,
    ) -> Authenticated:
        keys = platform.keys
        presented = _presented_key(authorization, x_api_key)
        if presented is None:
            if not keys.auth_required():
                return None
            raise Unauthorized(
                "This server requires an API key: send `Authorization: Bearer <key>` "
                "(an admin creates one with `imajin keys create --scope read`)."
            )
        found = keys.authenticate(presented)
        if found is None:
            if not keys.auth_required():
                return None
            raise Unauthorized("The API key is invalid or has been revoked.")
        granted = expand_scopes(found.scopes)
        if scope not in granted:
            have = ", ".join(sorted(granted))
            raise Forbidden(f"This route needs the `{scope}` scope; key `{found.id}` has: {have}.")
        return found

    check.required_scope = scope  # type: ignore[attr-defined]  # read by the route audit test
    return check


@cache
def signed_or(scope: Scope) -> Callable[..., Authenticated]:
    """A dependency that admits a URL the API signed, or else a request holding ``scope``.

    An unsigned or tampered URL is treated like any other request: it needs the key.
    """
    keyed = require(scope)

    def check(
        request: Request,
        platform: PlatformDep,
        sig: Annotated[
            str | None,
            # No length cap: a malformed signature is just a wrong one (401 without a key).
            Query(
                alias=SIGNATURE_PARAM,
                description="Signature from the URL the API handed out; admits without a key.",
            ),
        ] = None,
        authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
        x_api_key: Annotated[str | None, Header(include_in_schema=False)] = None,
    ) -> Authenticated:
        # With auth off nothing is signed (and no secret is made for a stray ?sig=).
        signed = sig is not None and platform.keys.auth_required()
        if signed and platform.url_signer.verify(
            request.url.path, request.query_params.multi_items()
        ):
            return None
        return keyed(platform, authorization, x_api_key)

    check.required_scope = scope  # type: ignore[attr-defined]  # read by the route audit test
    return check


ReadAccess = Depends(require(Scope.READ))
SignedReadAccess = Depends(signed_or(Scope.READ))
GenerateAccess = Depends(require(Scope.GENERATE))
AdminAccess = Depends(require(Scope.ADMIN))


def check_bind_safety(settings: Settings, *, has_keys: bool) -> None:
    """Refuse to serve an open API beyond this machine.

    Raises:
        ConfigError: when ``server.host`` is not loopback, no API key exists,
            and ``server.insecure`` (``--insecure``) is not set.
    """
    if settings.binds_loopback or has_keys or settings.server.insecure:
        return
    raise ConfigError(
        f"Refusing to bind {settings.server.host} with no API keys: anyone on the network "
        "could use this server. Create a key (`imajin keys create --scope admin`), bind "
        "127.0.0.1, or pass --insecure if the network is trusted.",
        field="server.host",
    )
