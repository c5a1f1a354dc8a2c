"""Replicas on one PostgreSQL, run for real: two ``serve --no-worker``, two ``worker``.

Shared by ``tests/test_replicas.py`` and ``bench/replicas.py``: the deliveries sent (pull
requests' lives, a few merged, with redeliveries to the other replica), one worker SIGKILLed
mid-run, and what "every effect once" means, checked against what GitHub and Slack received
and what the database holds.
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
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from app.store.db import make_engine
from app.store.models import Job, NoticeRow
from tests.conftest import SECRET, load_fixture, webhook_headers
from tests.fakes.github import APP_ID, FakeGitHub, pem
from tests.fakes.github_server import github_over_http
from tests.fakes.slack_server import FakeSlackServer
from tests.lane.scenario import Repo
from tests.serving import serve

ROOT = Path(__file__).resolve().parents[1]
FIRST_NUMBER = 5000
# A pull request's life before its merge: opened, then edited and relabelled by its author.
LIFE = ("opened", "edited", "labeled", "edited", "edited", "labeled", "edited", "edited")
SETTLE_SECONDS = 300.0


@dataclass(frozen=True)
class Size:
    pulls: int  # pull requests, each a hotfix of its own incident
    merged: int  # of which the first ``merged`` merge (their follow-ups fall due)
    posts: int  # deliveries posted in all, redeliveries included


def serve_repo(github: FakeGitHub) -> Repo:
    """The compliant hotfix repository of the lane's tests, @carol among the admins."""
    repo = Repo(lists_own_check_runs=True)  # a retry can adopt a run it never recorded
    repo.teams["platform-admins"] = {"carol"}
    repo.serve(github)
    return repo


def head_of(n: int) -> str:
    return f"{FIRST_NUMBER + n:040x}"


def payloads(size: Size) -> list[tuple[str, str, dict[str, Any]]]:
    """(delivery id, event, body) of every pull request's life, then the merges; every pull
    request has a head of its own and each copy is newer than the one before."""
    found = []
    for n in range(size.pulls):
        events = [*LIFE, *(("closed",) if n < size.merged else ())]
        for step, action in enumerate(events):
            name = "pull_request.closed" if action == "closed" else f"pull_request.{action}"
            body = copy.deepcopy(load_fixture(name))
            pr = body["pull_request"]
            number = FIRST_NUMBER + n
            body["number"] = pr["number"] = number
            pr["html_url"] = f"https://github.com/acme/bookstore-platform/pull/{number}"
            pr["head"]["sha"] = head_of(n)
            pr["title"] = f"HOTFIX: INC-2026-05-20-{n:03d} catalog fix {n}"
            pr["head"]["ref"] = f"hotfix/INC-2026-05-20-{n:03d}-fix"
            pr["updated_at"] = f"2026-05-20T09:{10 + step:02d}:00Z"
            found.append((f"{action}-{step}-{n}", "pull_request", body))
    return found


def post(client: httpx.Client, base: str, delivery: str, event: str, body: dict[str, Any]) -> None:
    raw = json.dumps(body).encode()
    response = client.post(
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
            select(Job.id).where(
                col(Job.status).in_(("queued", "running")), col(Job.run_at) <= time.time()
            )
        ).first()
    return busy is None


def env_for(
    postgres_url: str, app_key: rsa.RSAPrivateKey, slack: FakeSlackServer
) -> dict[str, str]:
    return {
        "HOTFIX_LANE_WEBHOOK_SECRET": SECRET,
        "HOTFIX_LANE_DATABASE_URL": postgres_url,
        "HOTFIX_LANE_GITHUB_APP_ID": APP_ID,
        "HOTFIX_LANE_GITHUB_PRIVATE_KEY": pem(app_key),
        "HOTFIX_LANE_SLACK_BOT_TOKEN": "xoxb-replicas",
        "HOTFIX_LANE_SLACK_API_URL": slack.base_url,
        "HOTFIX_LANE_WORKER_POLL_SECONDS": "0.05",
        # A killed worker's jobs come back after a short lease.
        "HOTFIX_LANE_JOB_LEASE_SECONDS": "3",
        "HOTFIX_LANE_JOB_BACKOFF_BASE_SECONDS": "0.2",
        "HOTFIX_LANE_LOG_LEVEL": "WARNING",
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


@dataclass(frozen=True)
class Outcome:
    """What a run left: the deliveries meant, the rows, and how long the phases took."""

    size: Size
    deliveries: tuple[str, ...]  # distinct delivery ids
    jobs: Sequence[Job]
    notices: Sequence[NoticeRow]
    posting_seconds: float
    settling_seconds: float


def run(
    github: FakeGitHub,
    slack: FakeSlackServer,
    *,
    postgres_url: str,
    app_key: rsa.RSAPrivateKey,
    cwd: Path,
    size: Size,
) -> Outcome:
    """Start the four processes, post ``size.posts`` deliveries (the merges in a second burst,
    after the lives they end), SIGKILL one worker halfway through the first and start a new
    one, as a supervisor would, and wait until every job due has settled."""
    deliveries = payloads(size)
    redeliveries = size.posts - len(deliveries)
    assert redeliveries >= 0, f"{size.posts} posts cannot carry {len(deliveries)} deliveries"
    # Which deliveries are also posted again, to the other replica: spread evenly over both
    # bursts, so merges are redelivered too.
    again = {k * len(deliveries) // redeliveries for k in range(redeliveries)}
    assert len(again) == redeliveries, "more redeliveries than deliveries"
    engine = make_engine(postgres_url)
    with github_over_http(github) as api_url, ExitStack() as stack, httpx.Client() as client:
        env = env_for(postgres_url, app_key, slack) | {"HOTFIX_LANE_GITHUB_API_URL": api_url}
        bases = [stack.enter_context(serve(env, "--no-worker", cwd=cwd))[1] for _ in range(2)]
        workers = [start_worker(env, cwd) for _ in range(2)]
        # A merge handled before the PR's opening would rightly leave the opening stale (no
        # check run for a merged PR): the merges go in a second burst.
        bursts = [
            [d for d in deliveries if not d[0].startswith("closed")],
            [d for d in deliveries if d[0].startswith("closed")],
        ]
        try:
            sent = posted = 0
            posting = settling = 0.0
            for burst in bursts:
                began = time.monotonic()
                for delivery, event, body in burst:
                    post(client, bases[sent % 2], delivery, event, body)
                    posted += 1
                    if sent in again:
                        post(client, bases[(sent + 1) % 2], delivery, event, body)
                        posted += 1
                    if sent == len(bursts[0]) // 2:
                        workers[0].send_signal(signal.SIGKILL)  # mid-run, jobs in its hands
                        workers[0].wait()
                        # Its supervisor starts another (the killed one's jobs wait out
                        # their lease, then either worker takes them).
                        workers.append(start_worker(env, cwd))
                    sent += 1
                posting += time.monotonic() - began
                began = time.monotonic()
                deadline = began + SETTLE_SECONDS
                while not settled(engine):
                    assert time.monotonic() < deadline, (
                        f"the jobs did not settle within {SETTLE_SECONDS:g} s"
                    )
                    time.sleep(0.2)  # polling other processes, with a deadline
                settling += time.monotonic() - began
        finally:
            for worker in workers:
                if worker.poll() is None:
                    worker.send_signal(signal.SIGTERM)
                    worker.wait(30)
    with Session(engine) as session:
        jobs = session.exec(select(Job)).all()
        notices = session.exec(select(NoticeRow)).all()
    engine.dispose()
    assert posted == size.posts, posted
    return Outcome(size, tuple(d for d, _, _ in deliveries), jobs, notices, posting, settling)


def check(outcome: Outcome, github: FakeGitHub, slack: FakeSlackServer) -> dict[str, int]:
    """Assert every effect happened once; what was counted, for a report."""
    jobs, notices, size = outcome.jobs, outcome.notices, outcome.size
    # Every delivery processed once: one job each, done (a redelivery added none).
    delivered = [job for job in jobs if job.kind == "delivery"]
    assert sorted(job.ref for job in delivered) == sorted(outcome.deliveries)
    assert {job.status for job in delivered} == {"done"}
    # One check run per head, created once whichever replica or worker got there first.
    created = Counter(
        json.loads(call.request.content)["head_sha"]
        for call in github.router.calls
        if call.request.method == "POST" and call.request.url.path.endswith("/check-runs")
    )
    twice_created = {sha: n for sha, n in created.items() if n != 1}
    assert set(created) == {head_of(n) for n in range(size.pulls)} and not twice_created, (
        twice_created or set(created) ^ {head_of(n) for n in range(size.pulls)}
    )
    # Each deadline fired once (the fixtures merged in May: all are overdue by now).
    due = [job for job in jobs if job.kind == "follow-up-due"]
    assert len(due) == size.merged * 3 and {job.status for job in due} == {"done"}
    # One Slack message per notice: Slack has no idempotency key, so only a notice whose job
    # was in the killed worker's hands (a second attempt) may have gone twice.
    assert {row.status for row in notices} == {"sent"}
    # Two notices may say the same (an author over the quota at the same count, on two PRs):
    # a text went twice when Slack got it more often than there are notices saying it.
    posted = Counter(message.body["text"] for message in slack.messages)
    saying = Counter(row.text for row in notices)
    attempts = {job.ref: job.attempts for job in jobs if job.kind == "notice"}
    twice = [row.key for row in notices if posted[row.text] > saying[row.text]]
    assert all(attempts.get(key, 1) > 1 for key in twice), twice
    assert len(slack.messages) <= len(notices) + len(twice)
    # The incidents declared: one declaration per pull request's incident, once.
    declared = Counter(
        m.body["text"] for m in slack.messages if m.body["text"].startswith("DECLARING HOTFIX")
    )
    assert len(declared) == size.pulls
    return {
        "deliveries": len(delivered),
        "check runs": sum(created.values()),
        "deadlines": len(due),
        "notices": len(notices),
        "slack messages": len(slack.messages),
        "sent twice (killed worker's)": len(twice),
    }
