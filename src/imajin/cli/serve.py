"""`imajin serve`: migrate the database and run the HTTP API."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from imajin.cli.context import settings_from

if TYPE_CHECKING:
    from imajin.config.settings import ServerSettings


def serve(
    ctx: typer.Context,
    # show_default, not "[default: …]" in the help: Rich reads square brackets as markup
    # and `--help` printed "Bind address ." with the default gone.
    host: Annotated[
        str | None, typer.Option(help="Bind address.", show_default="server.host")
    ] = None,
    port: Annotated[int | None, typer.Option(help="TCP port.", show_default="server.port")] = None,
    insecure: Annotated[
        bool, typer.Option("--insecure", help="Allow a non-loopback bind without API keys.")
    ] = False,
) -> None:
    """Start the platform: upgrade the database, then serve the API and web UI.

    Everything runs in this process with the embedded defaults (SQLite, local
    files). Open http://127.0.0.1:8000/docs for the API reference.
    """
    import uvicorn  # noqa: PLC0415  # keeps `imajin --help` fast

    from imajin.api.app import create_app  # noqa: PLC0415
    from imajin.api.auth import check_bind_safety  # noqa: PLC0415
    from imajin.logs import configure_logging  # noqa: PLC0415
    from imajin.store.migrate import upgrade  # noqa: PLC0415
    from imajin.wiring import build_platform  # noqa: PLC0415

    settings = settings_from(ctx)
    server = settings.server.model_copy(
        update={
            key: value
            for key, value in {"host": host, "port": port, "insecure": insecure or None}.items()
            if value is not None
        }
    )
    settings = settings.model_copy(update={"server": server})
    configure_logging(settings.logging)
    platform = build_platform(settings)
    try:
        upgrade(platform.database)
        check_bind_safety(settings, has_keys=platform.keys.has_active_keys())
        typer.echo(
            f"imajin: serving on http://{server.host}:{server.port} (data in {settings.data_dir})",
            err=True,
        )
        uvicorn.run(create_app(platform), **uvicorn_options(server))
    finally:
        platform.close()


def uvicorn_options(server: ServerSettings) -> dict[str, Any]:
    """How ``imajin serve`` runs uvicorn. Its automatic choices pick uvloop and the
    httptools parser (both installed with imajin), which keep a burst of connections
    from holding the event loop; logging stays imajin's own."""
    return {"host": server.host, "port": server.port, "log_config": None}
