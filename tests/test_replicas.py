"""Replicas on one PostgreSQL: two ``serve --no-worker`` and two ``worker`` processes, a burst
of deliveries with redeliveries, one worker SIGKILLed mid-run; every effect once.

GitHub is the shared fake served over HTTP, Slack the local fake server. What is asserted is
what GitHub and Slack received and what the database holds. The size is small (Slack takes a
message a second a channel from each worker); the guarantees do not depend on it.
"""

from __future__ import annotations

import copy
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from app.store import migrate
from app.store.db import make_engine
from app.store.models import Job, NoticeRow
from tests.conftest import SECRET, load_fixture, webhook_headers
from tests.fakes.github import APP_ID, FakeGitHub, pem
from tests.fakes.github_server import github_over_http
from tests.fakes.slack_server import FakeSlackServer
from tests.lane.scenario import Repo
from tests.serving import serve

ROOT = Path(__file__).resolve().parents[1]
PULLS = 6
EVENTS = ("opened", "edited", "labeled", "closed")  # the last merges it, in a second burst


def payloads(pulls: int) -> list[tuple[str, str, dict[str, Any]]]:
    """(delivery id, event, body) for each pull request's life: opened, edited, labelled,
    merged; every pull request has a head of its own."""
    found = []
    for n in range(pulls):
        number, head = 5000 + n, f"{5000 + n:040x}"
        for event in EVENTS:
            name = "pull_request.closed" if event == "closed" else f"pull_request.{event}"
            body = copy.deepcopy(load_fixture(name))
            pr = body["pull_request"]
            pr["number"] = number
            pr["html_url"] = f"https://github.com/acme/bookstore-platform/pull/{number}"
            pr["head"]["sha"] = head
            pr["title"] = f"HOTFIX: INC-2026-05-20-{n:03d} catalog fix {n}"
            pr["head"]["ref"] = f"hotfix/INC-2026-05-20-{n:03d}-fix"
            pr["updated_at"] = f"2026-05-20T09:{10 + EVENTS.index(event):02d}:00Z"
            found.append((f"{event}-{n}", "pull_request", body))
    return found


def post(base: str, delivery: str, event: str, body: dict[str, Any]) -> None:
    raw = json.dumps(body).encode()
    response = httpx.post(
        f"{base}/api/github/webhooks",
        content=raw,
        headers=webhook_headers(raw, event, delivery),
        timeout=10,
    )
    assert response.status_code == 202, response.text


def settled(engine: Engine) -> bool:
    """No job due now is still queued or running (recurring slots later are not due)."""
    with Session(engine) as session:
        busy = session.exec(
            select(Job).where(
                col(Job.status).in_(("queued", "running")), col(Job.run_at) <= time.time()
            )
        ).all()
    return not busy


@pytest.fixture
def postgres_url(database_url: str) -> str:
    if not database_url.startswith("postgresql"):
        pytest.skip("replicas share a PostgreSQL database; SQLite serves one process")
    engine = make_engine(database_url)
    migrate.upgrade(engine)
    engine.dispose()
    return database_url


@pytest.fixture
def processes_env(
    postgres_url: str, app_key: rsa.RSAPrivateKey, slack_server: FakeSlackServer
) -> Iterator[dict[str, str]]:
    yield {
        "HOTFIX_LANE_WEBHOOK_SECRET": SECRET,
        "HOTFIX_LANE_DATABASE_URL": postgres_url,
        "HOTFIX_LANE_GITHUB_APP_ID": APP_ID,
        "HOTFIX_LANE_GITHUB_PRIVATE_KEY": pem(app_key),
        "HOTFIX_LANE_SLACK_BOT_TOKEN": "xoxb-replicas",
        "HOTFIX_LANE_SLACK_API_URL": slack_server.base_url,
        "HOTFIX_LANE_WORKER_POLL_SECONDS": "0.05",
        # A killed worker's jobs come back after a short lease.
        "HOTFIX_LANE_JOB_LEASE_SECONDS": "3",
        "HOTFIX_LANE_JOB_BACKOFF_BASE_SECONDS": "0.2",
    }


def start_worker(env: dict[str, str], cwd: Path) -> subprocess.Popen[bytes]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("HOTFIX_LANE_")}
    full |= env | {"PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "app.cli", "worker"],
        env=full,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


@pytest.mark.postgres
def test_two_apis_and_two_workers_on_postgresql_do_every_effect_once(
    fake_github: FakeGitHub,
    processes_env: dict[str, str],
    postgres_url: str,
    slack_server: FakeSlackServer,
    tmp_path: Path,
) -> None:
    repo = Repo()
    repo.teams["platform-admins"] = {"carol"}
    repo.serve(fake_github)
    deliveries = payloads(PULLS)
    engine = make_engine(postgres_url)
    with github_over_http(fake_github) as api_url, ExitStack() as stack:
        env = processes_env | {"HOTFIX_LANE_GITHUB_API_URL": api_url}
        bases = [stack.enter_context(serve(env, "--no-worker", cwd=tmp_path))[1] for _ in range(2)]
        workers = [start_worker(env, tmp_path) for _ in range(2)]
        # The pull requests' lives first, then their merges: a merge handled before the
        # opening would rightly leave the opening stale (no check run for a merged PR).
        bursts = [
            [d for d in deliveries if not d[0].startswith("closed")],
            [d for d in deliveries if d[0].startswith("closed")],
        ]
        try:
            sent = 0
            for burst in bursts:
                for delivery, event, body in burst:
                    post(bases[sent % 2], delivery, event, body)
                    if sent % 3 == 0:  # a redelivery, to the other replica
                        post(bases[(sent + 1) % 2], delivery, event, body)
                    if sent == len(bursts[0]) // 2:
                        workers[0].send_signal(signal.SIGKILL)  # mid-run, jobs in its hands
                    sent += 1
                deadline = time.monotonic() + 120
                while not settled(engine):
                    assert time.monotonic() < deadline, "the jobs did not settle within 120 s"
                    time.sleep(0.2)  # polling other processes, with a deadline
        finally:
            for worker in workers:
                if worker.poll() is None:
                    worker.send_signal(signal.SIGTERM)
                    worker.wait(30)

    with Session(engine) as session:
        jobs = session.exec(select(Job)).all()
        notices = session.exec(select(NoticeRow)).all()
    engine.dispose()

    # Every delivery processed once: one job each, done (a redelivery added none).
    delivered = [job for job in jobs if job.kind == "delivery"]
    assert sorted(job.ref for job in delivered) == sorted(d for d, _, _ in deliveries)
    assert {job.status for job in delivered} == {"done"}
    # One check run per head, created once whichever replica or worker got there first.
    created = Counter(
        json.loads(call.request.content)["head_sha"]
        for call in fake_github.router.calls
        if call.request.method == "POST" and call.request.url.path.endswith("/check-runs")
    )
    assert created == {f"{5000 + n:040x}": 1 for n in range(PULLS)}
    # Each deadline fired once (the fixtures merged in May: all are overdue by now).
    due = [job for job in jobs if job.kind == "follow-up-due"]
    assert len(due) == PULLS * 3 and {job.status for job in due} == {"done"}
    # One Slack message per notice: Slack has no idempotency key, so only a notice whose job
    # was in the killed worker's hands (a second attempt) may have gone twice.
    assert {row.status for row in notices} == {"sent"}
    posted = Counter(message.body["text"] for message in slack_server.messages)
    attempts = {job.ref: job.attempts for job in jobs if job.kind == "notice"}
    twice = [row.key for row in notices if posted[row.text] > 1]
    assert all(attempts.get(key, 1) > 1 for key in twice), twice
    assert len(slack_server.messages) <= len(notices) + len(twice)
