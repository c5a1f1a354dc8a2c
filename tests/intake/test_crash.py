"""A 2xx means stored: a delivery survives the process dying right after the answer."""

from __future__ import annotations

import json
import signal
from collections.abc import Callable
from pathlib import Path

import httpx
from sqlmodel import Session, select

from app.clock import Clock
from app.jobs.worker import Worker
from app.services import EventContext, Services
from app.settings import Settings
from app.store.db import make_engine
from app.store.models import Delivery
from app.wiring import DeliveryRunner
from tests.conftest import SECRET, load_fixture, webhook_headers
from tests.serving import serve


async def test_a_delivery_answered_202_is_processed_after_a_kill_9(
    tmp_path: Path, make_settings: Callable[..., Settings]
) -> None:
    url = f"sqlite:///{tmp_path}/hotfix-lane.db"
    env = {"HOTFIX_LANE_WEBHOOK_SECRET": SECRET, "HOTFIX_LANE_DATABASE_URL": url}
    body = json.dumps(load_fixture("pull_request.opened")).encode()

    with serve(env, "--no-worker", cwd=tmp_path) as (process, base):
        response = httpx.post(
            f"{base}/api/github/webhooks",
            content=body,
            headers=webhook_headers(body, "pull_request", delivery="kill-9-1"),
        )
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    assert response.status_code == 202

    engine = make_engine(url)
    with Session(engine) as session:
        assert [d.id for d in session.exec(select(Delivery))] == ["kill-9-1"]
    seen: list[str] = []

    async def record(context: EventContext) -> None:
        seen.append(context.delivery_id)

    settings = make_settings(database_url=url)
    runner = DeliveryRunner(
        Services(settings=settings, engine=engine, clock=Clock()),
        {("pull_request", "opened"): record},
    )
    assert await Worker(engine=engine, settings=settings, runners={"delivery": runner}).drain() == 1
    assert seen == ["kill-9-1"]
    engine.dispose()
