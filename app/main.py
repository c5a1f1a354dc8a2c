"""The FastAPI application: ``create_app(settings)``; the lifespan owns engine, writer, worker."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.types import Receive, Scope, Send

from app.services import Services
from app.wiring import ROUTES, Routes
from app.github.gateway import GitHubGateway
from app.intake.audit_log import audit_log_router
from app.intake.webhooks import WebhookIntake
from app.intake.writer import DeliveryWriter
from app.jobs.runners import build_runners
from app.jobs.worker import Worker, WorkerThread, refresh_queue_metrics
from app.auditlog.poller import start_poller
from app.notify.slack import Notifier, SlackNotifier
from app.settings import Settings
from app.store import migrate
from app.store.db import Checkpointer, check_database, is_sqlite, make_engine

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/api/github/webhooks"


class HotfixLaneApp(FastAPI):
    """FastAPI, with the webhook path answered by a plain ASGI endpoint.

    Webhook intake is the hot path: it bypasses FastAPI's middleware and request parsing,
    which otherwise cost more than verifying and storing the delivery.
    """

    def __init__(self, intake: WebhookIntake, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.intake = intake

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == WEBHOOK_PATH:
            await self.intake(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)


def create_app(
    settings: Settings,
    *,
    run_worker: bool = True,
    routes: Routes = ROUTES,
    gateway: GitHubGateway | None = None,
    notifier: Notifier | None = None,
) -> FastAPI:
    """Build the app. Raises ``ConfigError`` (naming the setting) when it cannot run.

    ``gateway`` and ``notifier`` replace the ones built from the settings (tests hand in ones
    whose retries and pacing do not wait); the app closes the gateway either way.
    """
    secret = settings.require_webhook_secret()
    engine = make_engine(settings.database_url, background_checkpoint=True)
    writer = DeliveryWriter(engine, max_attempts=settings.job_max_attempts)
    services = Services(settings=settings, engine=engine)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await asyncio.to_thread(check_database, engine)
        await asyncio.to_thread(migrate.upgrade, engine)
        checkpointer = Checkpointer(engine) if is_sqlite(engine) else None
        if checkpointer is not None:
            checkpointer.start()
        writer.start()
        services.gateway = gateway or make_gateway(settings)
        services.notifier = notifier or make_notifier(settings)
        worker_thread = None
        if run_worker:
            worker = Worker(
                engine=engine, settings=settings, runners=build_runners(services, routes)
            )
            worker_thread = WorkerThread(worker)
            worker_thread.start()
        poller = start_poller(services)
        log.info(
            "hotfix-lane ready (database: %s, worker: %s)",
            engine.url.get_backend_name(),
            "on" if run_worker else "off",
        )
        # Start-up made ~150,000 long-lived objects; without this every full collection walks
        # them all (~90 ms), which was most of intake's p99 under load.
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            if poller is not None:
                await poller.stop()
            if worker_thread is not None:
                await asyncio.to_thread(worker_thread.stop)
            await writer.stop()
            if checkpointer is not None:
                await asyncio.to_thread(checkpointer.stop)
            if services.gateway is not None:
                await services.gateway.aclose()
            engine.dispose()

    intake = WebhookIntake(secret=secret, writer=writer, max_body_bytes=settings.max_body_bytes)
    app = HotfixLaneApp(
        intake, title="hotfix-lane", lifespan=lifespan, docs_url=None, redoc_url=None
    )
    app.state.services = services
    app.include_router(audit_log_router(services))

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz")
    async def readyz() -> Response:
        try:
            await asyncio.to_thread(check_database, engine)
        except Exception as exc:
            log.warning("not ready: %s", exc)
            return JSONResponse({"status": "unavailable", "reason": str(exc)}, status_code=503)
        return JSONResponse({"status": "ready"})

    @app.get("/metrics")
    async def metrics_endpoint() -> Response:
        try:
            await asyncio.to_thread(refresh_queue_metrics, engine)
        except Exception:
            log.exception("could not read queue metrics")
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return app


def make_notifier(settings: Settings) -> Notifier | None:
    """The Slack notifier, or None (notices stored and logged) without a bot token."""
    if settings.slack_bot_token is None:
        log.warning("HOTFIX_LANE_SLACK_BOT_TOKEN not set: audit notices are stored, not sent")
        return None
    return SlackNotifier(settings.slack_bot_token.get_secret_value(), settings.slack_api_url)


def make_gateway(settings: Settings) -> GitHubGateway | None:
    """The GitHub gateway, or None when the App's id and key are not configured."""
    if not settings.github_configured:
        log.warning(
            "HOTFIX_LANE_GITHUB_APP_ID / _PRIVATE_KEY not set: pull requests will not "
            "be evaluated until they are"
        )
        return None
    return GitHubGateway(settings)
