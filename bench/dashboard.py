"""Dashboard benchmark: how long ``GET /`` takes with a busy store, against the real ``serve``.

Fills a SQLite database (migrated by the app's own code) with 10,000 ledger rows, 1,000 open
follow-ups and 200 open hotfix PRs with their evaluations, starts ``hotfix-lane serve
--no-worker`` on it with ``WEB_AUTH=none``, and times the dashboard (and, for comparison, the
ledger page and a details page) over HTTP on loopback. Run on demand, never in the tests:

    python bench/dashboard.py --requests 200

The target (issue "web view"): the dashboard in under 100 ms at that size.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlmodel import Session

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.store import migrate  # noqa: E402
from app.store.db import make_engine  # noqa: E402
from app.store.models import (  # noqa: E402
    EvaluationRecord,
    FollowUp,
    HotfixRecord,
    TrackedPullRequest,
)
from tests.serving import serve  # noqa: E402

SECRET = "bench-webhook-secret"
NOW = datetime.now(UTC).replace(microsecond=0)
KINDS = ("cleanup-pr", "postmortem", "audit-review")


def fill(url: str, *, hotfixes: int, follow_ups: int, open_prs: int) -> None:
    engine = make_engine(url)
    migrate.upgrade(engine)
    with Session(engine) as session:
        for n in range(hotfixes):
            merged = NOW - timedelta(hours=n)
            session.add(
                HotfixRecord(
                    org=f"org{n % 20}",
                    repo_full_name=f"org{n % 20}/service-{n % 200}",
                    number=n + 1,
                    title=f"HOTFIX: INC-2026-05-20-{n % 1000:03d} fix {n}",
                    incident_id=f"INC-2026-05-20-{n % 1000:03d}",
                    author=f"dev{n % 300}",
                    approver="alice",
                    cleanup_owner=f"dev{n % 300}",
                    merged_by="carol",
                    merged_at=merged,
                    head_sha=f"{n:040x}",
                    merge_sha=f"{n + 1:040x}",
                    base_ref="main",
                    url=f"https://github.com/org{n % 20}/service-{n % 200}/pull/{n + 1}",
                    policy_state="success",
                    scan_state="passed",
                    recorded_at=merged,
                )
            )
        session.commit()
        for n in range(follow_ups):
            due = NOW + timedelta(hours=n - follow_ups // 2)
            session.add(
                FollowUp(
                    hotfix_id=n // len(KINDS) + 1,
                    kind=KINDS[n % len(KINDS)],
                    owner=f"dev{n % 300}",
                    due_at=due,
                    state="overdue" if due < NOW else "open",
                    created_at=NOW,
                    updated_at=NOW,
                )
            )
        for n in range(open_prs):
            repo, number = f"org{n % 20}/service-{n % 200}", 100_000 + n
            pr = {
                "number": number,
                "title": f"HOTFIX: INC-2026-06-01-{n:03d} x",
                "user": {"login": "bob"},
            }
            session.add(
                TrackedPullRequest(
                    repo_full_name=repo,
                    number=number,
                    head_sha=f"{number:040x}",
                    lane="hotfix",
                    state="open",
                    pull_request=json.dumps(pr),
                    updated_at=NOW,
                )
            )
            for attempt in range(3):
                session.add(
                    EvaluationRecord(
                        repo_full_name=repo,
                        number=number,
                        head_sha=f"{number:040x}",
                        lane="hotfix",
                        state="failure" if attempt < 2 else "success",
                        description="Hotfix lane: all 13 rules pass.",
                        verdicts=json.dumps([{"rule": "scan", "outcome": "pass", "message": "ok"}]),
                        evaluated_at=NOW - timedelta(minutes=3 - attempt),
                    )
                )
        session.commit()
    engine.dispose()


def timed(client: httpx.Client, path: str, requests: int) -> list[float]:
    client.get(path).raise_for_status()  # warm: templates compiled, caches filled
    took = []
    for _ in range(requests):
        start = time.perf_counter()
        response = client.get(path)
        took.append((time.perf_counter() - start) * 1000)
        response.raise_for_status()
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--hotfixes", type=int, default=10_000)
    parser.add_argument("--follow-ups", type=int, default=1_000)
    parser.add_argument("--open-prs", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/hotfix-lane.db"
        fill(url, hotfixes=args.hotfixes, follow_ups=args.follow_ups, open_prs=args.open_prs)
        env = {
            "HOTFIX_LANE_WEBHOOK_SECRET": SECRET,
            "HOTFIX_LANE_DATABASE_URL": url,
            "HOTFIX_LANE_WEB_AUTH": "none",
            "HOTFIX_LANE_LOG_LEVEL": "WARNING",
        }
        with (
            serve(env, "--no-worker", cwd=Path(folder)) as (_process, base),
            httpx.Client(base_url=base, timeout=30) as client,
        ):
            print(
                f"{args.hotfixes} ledger rows, {args.follow_ups} open follow-ups, "
                f"{args.open_prs} open hotfix PRs; {args.requests} requests each"
            )
            for path in ("/", "/ledger", "/org0/service-0/pull/100000"):
                took = sorted(timed(client, path, args.requests))
                p50 = statistics.median(took)
                p95 = took[int(len(took) * 0.95) - 1]
                print(
                    f"GET {path:<32} p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  max {took[-1]:6.1f} ms"
                )


if __name__ == "__main__":
    main()
