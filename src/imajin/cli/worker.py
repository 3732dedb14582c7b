"""`imajin worker`: a Celery worker process that runs jobs from the broker."""

from __future__ import annotations

import os
import socket
from typing import Annotated

import typer

from imajin.cli.context import settings_from
from imajin.errors import ConfigError


def worker(
    ctx: typer.Context,
    queues: Annotated[
        str,
        typer.Option(
            help="Comma-separated routes to consume, e.g. `default,sdxl` "
            "(a job's route is usually its model id)."
        ),
    ] = "default",
    name: Annotated[str | None, typer.Option(help="Worker name (default: host-pid).")] = None,
    device: Annotated[
        str | None,
        typer.Option(
            help="Pin this process to one GPU, e.g. `cuda:1` (sets CUDA_VISIBLE_DEVICES)."
        ),
    ] = None,
    loglevel: Annotated[str, typer.Option(help="Celery log level.")] = "INFO",
) -> None:
    """Run jobs sent through Celery (Redis or RabbitMQ, from `jobs.celery.broker_url`).

    Start one worker per GPU: each keeps its models warm and takes one job at a
    time. The API nodes must run with `jobs.dispatcher: celery`.
    """
    if device and device.startswith("cuda:"):
        os.environ["CUDA_VISIBLE_DEVICES"] = device.split(":", 1)[1]

    from imajin.jobs.celery_app import (  # noqa: PLC0415  # optional extra, slow import
        WorkerRuntime,
        install_runtime,
        make_celery,
        queue_name,
    )
    from imajin.jobs.redelivery import LostWorkerWait  # noqa: PLC0415
    from imajin.logs import configure_logging  # noqa: PLC0415
    from imajin.store.migrate import current_revision, head_revision  # noqa: PLC0415
    from imajin.wiring import build_platform  # noqa: PLC0415

    settings = settings_from(ctx)
    configure_logging(settings.logging)
    platform = build_platform(settings, role="worker")
    if current_revision(platform.database) != head_revision(platform.database):
        raise ConfigError(
            "The database schema is not current; run `imajin db upgrade` "
            "(or start `imajin serve`, which upgrades) before starting workers."
        )
    worker_name = name or f"{socket.gethostname()}-{os.getpid()}"
    routes = [route.strip() for route in queues.split(",") if route.strip()]
    platform.heartbeats.start()
    install_runtime(
        WorkerRuntime(
            runner=platform.runner,
            heartbeats=platform.heartbeats,
            name=worker_name,
            gather_s=platform.settings.jobs.batch_window_ms / 1000,
            lost_worker_wait=LostWorkerWait.after(
                stale_after_s=settings.jobs.stale_after_s,
                heartbeat_interval_s=settings.jobs.heartbeat_interval_s,
            ),
        )
    )
    celery = make_celery(settings.jobs)
    typer.echo(
        f"imajin worker {worker_name}: consuming {', '.join(routes)} from "
        f"{settings.jobs.celery.broker_url.split('@')[-1]}",
        err=True,
    )
    try:
        # One job at a time in this process (models stay warm). The threads pool, unlike
        # solo, keeps the broker loop running during a job, so acks and deliveries flow.
        celery.Worker(
            queues=[queue_name(settings.jobs, route) for route in routes],
            concurrency=1,
            pool="threads",
            hostname=f"{worker_name}@{socket.gethostname()}",
            loglevel=loglevel,
            without_mingle=True,
            without_gossip=True,
        ).start()
    finally:
        platform.close()
