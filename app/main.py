"""The ASGI application: ``create_app(settings)``; its lifespan starts and stops what
``app.wiring`` builds (services, worker thread, checkpointer) and the intake writer."""

from __future__ import annotations

import asyncio
import gc
import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy.engine import Engine
from starlette.middleware.sessions import SessionMiddleware
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

from app.clock import Clock
from app.github.gateway import GitHubGateway
from app.intake.audit_log import audit_log_router
from app.intake.webhooks import WebhookIntake
from app.intake.writer import DeliveryWriter
from app.jobs.worker import Doorbell
from app.notify.slack import Notifier
from app.policy.loader import policy_schema_text
from app.services import Services
from app.settings import Settings
from app.store import migrate
from app.store.db import check_database, make_engine
from app.web.api import api_router
from app.web.auth import Access
from app.web.pages import HERE as WEB_HERE
from app.web.pages import web_router
from app.web.trends import trends_router
from app.wiring import ROUTES, Background, Routes, open_services, refresh_gauges

WEB_STATIC = WEB_HERE / "static"

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/api/github/webhooks"
SCHEMA_PATH = "/schema/hotfix-lane.json"


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


def mount_operations(app: FastAPI, engine: Engine) -> None:
    """/healthz (alive), /readyz (the database answers) and /metrics, on ``serve``'s app and
    on the worker's ``--metrics-port``."""

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> Response:
        try:
            await asyncio.to_thread(check_database, engine)
        except Exception as exc:
            log.warning("not ready: %s", exc)
            return JSONResponse({"status": "unavailable", "reason": str(exc)}, status_code=503)
        return JSONResponse({"status": "ready"})

    @app.get("/metrics", include_in_schema=False)
    async def metrics_endpoint() -> Response:
        try:
            await asyncio.to_thread(refresh_gauges, engine)
        except Exception:
            log.exception("could not read the gauges' counts")
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


def operations_app(engine: Engine) -> FastAPI:
    """The worker's own small app: health, readiness and metrics, nothing else."""
    app = FastAPI(title="hotfix-lane worker", docs_url=None, redoc_url=None, openapi_url=None)
    mount_operations(app, engine)
    return app


def mount_web(app: FastAPI, settings: Settings, services: Services) -> None:
    """The pages, when they can be served: sign-in configured, or ``WEB_AUTH=none``."""
    if not settings.web_enabled:
        if settings.github_client_id or settings.session_secret:
            log.warning(
                "web view off: it needs HOTFIX_LANE_GITHUB_CLIENT_ID, _GITHUB_CLIENT_SECRET "
                "and _SESSION_SECRET (or HOTFIX_LANE_WEB_AUTH=none)"
            )
        return
    if settings.web_auth == "none":
        log.warning("HOTFIX_LANE_WEB_AUTH=none: the web view is served to anyone, unsigned-in")
        # Nothing is kept in the session without sign-in; a key of this process will do.
        secret = secrets.token_urlsafe(32)
    else:
        assert settings.session_secret is not None
        secret = settings.session_secret.get_secret_value()
    https = (settings.public_url or "").startswith("https://")
    app.add_middleware(
        SessionMiddleware,
        secret_key=secret,
        session_cookie="hotfix_lane_session",
        max_age=8 * 3600,
        same_site="lax",
        https_only=https,
    )
    access = Access(settings)
    app.include_router(api_router(services, access))
    app.include_router(trends_router(services, access))
    app.include_router(web_router(services, access))
    app.mount("/static", StaticFiles(directory=WEB_STATIC), name="static")


def create_app(
    settings: Settings,
    *,
    run_worker: bool = True,
    routes: Routes = ROUTES,
    gateway: GitHubGateway | None = None,
    notifier: Notifier | None = None,
    clock: Clock | None = None,
) -> FastAPI:
    """Build the app. Raises ``ConfigError`` (naming the setting) when it cannot run.

    ``app.state.services`` are the API loop's services; ``gateway`` and ``notifier`` replace
    the ones built from the settings there (tests hand in ones whose retries and pacing do not
    wait, and drive a worker of their own on them). The worker thread always builds its own.
    """
    secret = settings.require_webhook_secret()
    clock = clock or Clock()
    engine = make_engine(settings.database_url, background_checkpoint=True)
    writer = DeliveryWriter(engine, max_attempts=settings.job_max_attempts, clock=clock)
    services = Services(settings=settings, engine=engine, clock=clock)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await asyncio.to_thread(check_database, engine)
        await asyncio.to_thread(migrate.upgrade, engine)
        writer.start()
        async with open_services(
            settings, engine, clock, gateway=gateway, notifier=notifier
        ) as opened:
            services.gateway, services.notifier = opened.gateway, opened.notifier
            background = Background.start(
                services, run_worker=run_worker, routes=routes, doorbell=doorbell
            )
            log.info(
                "hotfix-lane ready (database: %s, worker: %s)",
                engine.url.get_backend_name(),
                "on" if run_worker else "off",
            )
            # Start-up made ~150,000 long-lived objects; without this every full collection
            # walks them all (~90 ms), which was most of intake's p99 under load.
            gc.collect()
            gc.freeze()
            try:
                yield
            finally:
                await background.stop()
                await writer.stop()
        engine.dispose()
        log.info("hotfix-lane stopped")

    # A delivery stored wakes this process's worker at once, instead of at its next poll.
    doorbell = Doorbell()
    intake = WebhookIntake(
        secret=secret,
        writer=writer,
        max_body_bytes=settings.max_body_bytes,
        clock=clock,
        on_stored=doorbell.ring,
    )
    app = HotfixLaneApp(
        intake,
        title="hotfix-lane",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.state.services = services
    app.include_router(audit_log_router(services))
    mount_web(app, settings, services)

    mount_operations(app, engine)

    @app.get(SCHEMA_PATH, include_in_schema=False)
    async def policy_schema() -> Response:
        # Editors point `yaml-language-server: $schema=` at this for .github/hotfix-lane.yml.
        return Response(policy_schema_text(), media_type="application/schema+json")

    return app
