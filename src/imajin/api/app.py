"""The FastAPI app factory. Routers are one per resource; the platform comes in built."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from anyio import to_thread
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.routing import iter_route_contexts

from imajin import __version__
from imajin.api.errors import register_error_handlers
from imajin.api.metrics import HttpMetrics
from imajin.api.middleware import RequestContextMiddleware
from imajin.api.openapi import install_openapi
from imajin.api.pacing import PacedStarts
from imajin.api.routers import (
    assistant,
    events,
    gateway,
    health,
    jobs,
    keys,
    loras,
    models,
    profile,
    studio,
    system,
    training,
    variations,
    web,
)
from imajin.engine.warmup import start_torch_warmup
from imajin.safety import warm_up as warm_up_safety
from imajin.wiring import Platform

DESCRIPTION = """\
Self-hosted AI image generation: variations and web derivatives, a prompt
assistant, batch studio and gateway flows on one engine.

When API keys are configured, send one as `Authorization: Bearer <key>` or
`X-API-Key: <key>`. Scopes: `read` < `generate` < `admin`.
"""


def create_app(platform: Platform) -> FastAPI:
    """Build the HTTP app around an already-built :class:`Platform`."""
    settings = platform.settings

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Background work (dispatcher, relay) runs while the app serves; the caller
        # that built the platform disposes of it. The safety regexes are compiled
        # before the first request, so a cold burst does not compile them in the pool;
        # torch is imported in the background, off the request path.
        warm_up_safety()
        # FastAPI builds each included route's dependency tree on the first request that
        # reaches its router (tens of ms on the event loop); build them all before binding.
        list(iter_route_contexts(_app.router.routes))
        # Starlette runs sync routes on anyio's default limiter (40 threads; one per event
        # loop, so this sets the server's own). A burst of 300 submits on 40 threads spent
        # its time switching the GIL while /health (on the event loop) waited behind them;
        # a few threads answer the same burst sooner. Nothing waits on a thread for long:
        # the gateway waits for its jobs on the event loop.
        to_thread.current_default_thread_limiter().total_tokens = settings.server.request_threads
        _app.state.torch_warmup = start_torch_warmup()
        platform.start()
        try:
            yield
        finally:
            platform.stop()

    app = FastAPI(
        lifespan=lifespan,
        title="imajin",
        version=__version__,
        description=DESCRIPTION,
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.platform = platform
    app.state.gateway = platform.gateway
    app.state.profile = platform.profile
    app.state.metrics = HttpMetrics()

    register_error_handlers(app)
    for router in (
        health.router,
        system.router,
        keys.router,
        jobs.router,
        events.router,
        variations.router,
        studio.router,
        loras.router,
        models.router,
        training.router,
        assistant.router,
        gateway.router,
        profile.router,
        web.router,
    ):
        app.include_router(router)
    install_openapi(app)

    if settings.server.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.server.cors_origins,
            allow_methods=["*"],
            allow_headers=[
                "Authorization",
                "X-API-Key",
                "Content-Type",
                "X-Request-ID",
                "Last-Event-ID",
            ],
            expose_headers=["X-Request-ID", "Retry-After", "ETag"],
        )
    # Added last so it is outermost: every response, errors included, gets a request id.
    app.add_middleware(
        RequestContextMiddleware,
        metrics=app.state.metrics,
        max_body_bytes=settings.server.max_body_bytes,
    )
    # Outside even that: a request waiting for its turn has not started yet.
    app.add_middleware(PacedStarts, per_turn=settings.server.starts_per_turn)
    return app
