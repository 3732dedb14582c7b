"""The one place that turns errors into HTTP responses.

Every error body is ``{"error": {"code", "message", "field"?, "requestId"}}``;
stack traces go to the log, never to a client.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from imajin.errors import (
    Conflict,
    Forbidden,
    ImajinError,
    InvalidInput,
    NotFound,
    Overloaded,
    PayloadTooLarge,
    PolicyViolation,
    ServiceUnavailable,
    Unauthorized,
    UpstreamError,
    UpstreamTimeout,
    UserError,
)
from imajin.logs import request_id_var
from imajin.storage.paths import UnsafePath

logger = logging.getLogger(__name__)

# Most specific first is not needed: we walk the exception's MRO.
STATUS_BY_ERROR: dict[type[ImajinError], int] = {
    UnsafePath: 400,
    InvalidInput: 422,
    PolicyViolation: 422,
    NotFound: 404,
    Conflict: 409,
    Unauthorized: 401,
    Forbidden: 403,
    PayloadTooLarge: 413,
    UserError: 400,
    Overloaded: 429,
    ServiceUnavailable: 503,
    UpstreamTimeout: 504,
    UpstreamError: 502,
    ImajinError: 500,
}

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    429: "queue_full",
}


def status_for(error: ImajinError) -> int:
    for cls in type(error).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return 500


def error_response(
    status: int, body: dict[str, object], headers: dict[str, str] | None = None
) -> JSONResponse:
    body = {**body, "requestId": request_id_var.get()}
    return JSONResponse({"error": body}, status_code=status, headers=headers)


async def _imajin_error(_request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, ImajinError):  # registered for ImajinError only
        raise exc
    status = status_for(exc)
    headers: dict[str, str] = {}
    if isinstance(exc, Overloaded):
        headers["Retry-After"] = str(exc.retry_after)
    if isinstance(exc, Unauthorized):
        headers["WWW-Authenticate"] = "Bearer"
    if status >= 500:
        logger.error("%s: %s", type(exc).__name__, exc.message)
    return error_response(status, exc.to_dict(), headers)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, RequestValidationError):
        raise exc
    details = []
    for error in exc.errors():
        loc = [str(part) for part in error["loc"]]
        # "body.generation.prompt" reads worse than "generation.prompt"; keep query./path.
        field = ".".join(loc[1:] if loc and loc[0] == "body" else loc) or "body"
        details.append({"field": field, "message": error["msg"], "type": error["type"]})
    first = details[0] if details else {"field": "body", "message": "invalid request"}
    body = {
        "code": "validation_error",
        "message": f"`{first['field']}`: {first['message']}",
        "field": first["field"],
        "details": details,
    }
    return error_response(422, body)


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def allowed_methods(request: Request) -> list[str]:
    """Every method some route answers at the request's path.

    Starlette's 405 names the methods of the first route whose path matched; a path
    served by several routes (GET and DELETE ``/api/jobs/{id}``) needs them all.
    """
    routes = request.app.router.routes
    return [
        method
        for method in _METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL for route in routes
        )
    ]


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, StarletteHTTPException):
        raise exc
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = ", ".join(allowed_methods(request))
    return error_response(exc.status_code, {"code": code, "message": str(exc.detail)}, headers)


def register_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ImajinError, _imajin_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    # Unexpected exceptions are answered by RequestMiddleware, inside the request id's scope.
