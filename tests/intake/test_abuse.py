"""Intake under abuse: large unsigned bodies are read a few at a time, rejections are counted
always and logged at a bounded rate, and signed deliveries keep being stored meanwhile."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, MutableMapping
from typing import Any

import pytest
from prometheus_client import REGISTRY
from sqlalchemy.engine import Engine

from app.clock import Clock
from app.intake import webhooks
from app.intake.webhooks import WebhookIntake
from app.intake.writer import DeliveryWriter
from app.store import migrate
from app.store.db import make_engine
from tests.conftest import SECRET, webhook_headers

MiB = 1024 * 1024


@pytest.fixture
async def intake(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[WebhookIntake]:
    monkeypatch.setattr(webhooks, "LARGE_AT_ONCE", 1)
    monkeypatch.setattr(webhooks, "LARGE_WAIT_SECONDS", 0.2)
    engine: Engine = make_engine(f"sqlite:///{tmp_path}/intake.db")
    migrate.upgrade(engine)
    writer = DeliveryWriter(engine, max_attempts=3, clock=Clock())
    writer.start()
    yield WebhookIntake(
        secret=SECRET.encode(), writer=writer, max_body_bytes=25 * MiB, clock=Clock()
    )
    await writer.stop()
    engine.dispose()


class Request:
    """One ASGI request whose body arrives in chunks the test releases."""

    def __init__(self, headers: dict[str, str], chunks: list[bytes], *, hold: bool) -> None:
        self.scope = {
            "type": "http",
            "method": "POST",
            "path": "/api/github/webhooks",
            "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        }
        self.chunks = chunks
        self.release = asyncio.Event()
        if not hold:
            self.release.set()
        self.reading = asyncio.Event()
        self.status: int | None = None

    async def receive(self) -> dict[str, Any]:
        self.reading.set()
        chunk = self.chunks.pop(0)
        if not self.chunks:
            await self.release.wait()  # the last chunk comes when the test says so
        return {"type": "http.request", "body": chunk, "more_body": bool(self.chunks)}

    async def send(self, message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]

    async def run(self, intake: WebhookIntake) -> int | None:
        await intake(self.scope, self.receive, self.send)
        return self.status


def junk(length: int) -> Request:
    headers = {"content-type": "application/json", "content-length": str(length)}
    return Request(headers, [b"x" * (length // 2), b"x" * (length - length // 2)], hold=True)


async def test_large_unsigned_bodies_wait_their_turn_and_signed_ones_go_on(
    intake: WebhookIntake,
) -> None:
    first, second = junk(2 * MiB), junk(2 * MiB)
    reading = asyncio.create_task(first.run(intake))
    await asyncio.wait_for(first.reading.wait(), 5)

    # The second large body is not read while the first is: after its wait, 503.
    assert await asyncio.wait_for(second.run(intake), 5) == 503
    assert not second.reading.is_set()

    # A small signed delivery is stored meanwhile.
    body = json.dumps({"action": "opened", "repository": {"full_name": "acme/api"}}).encode()
    signed = Request(
        webhook_headers(body, "pull_request", delivery="small-1")
        | {"content-length": str(len(body))},
        [body],
        hold=False,
    )
    assert await asyncio.wait_for(signed.run(intake), 5) == 202

    first.release.set()
    assert await asyncio.wait_for(reading, 5) == 401  # read in full, then refused: unsigned


async def test_rejections_are_counted_always_and_logged_a_few_a_second(
    intake: WebhookIntake, caplog: pytest.LogCaptureFixture
) -> None:
    before = (
        REGISTRY.get_sample_value("hotfix_lane_webhook_rejections_total", {"status": "401"}) or 0.0
    )
    caplog.set_level(logging.WARNING, logger="app.intake.webhooks")

    for _ in range(30):
        request = Request({"content-length": "2"}, [b"{}"], hold=False)
        assert await request.run(intake) == 401

    after = REGISTRY.get_sample_value("hotfix_lane_webhook_rejections_total", {"status": "401"})
    assert after == before + 30
    logged = [r for r in caplog.records if r.getMessage().startswith("rejected webhook")]
    # At most 5 a second; the run may straddle one second boundary.
    assert 5 <= len(logged) <= 10


async def test_a_body_that_never_finishes_gives_its_turn_back(
    intake: WebhookIntake, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(webhooks, "BODY_SECONDS", 0.2)
    slow = junk(2 * MiB)  # declares 2 MiB, then stalls before its last chunk

    assert await asyncio.wait_for(slow.run(intake), 5) == 408
    # The large-body turn is free again: the next one is read (and refused, unsigned).
    after = junk(2 * MiB)
    after.release.set()
    assert await asyncio.wait_for(after.run(intake), 5) == 401
