"""Missed webhooks: what GitHub failed to deliver and we never stored is asked for again.

GitHub's deliveries API is faked at the HTTP layer (the shared respx fake): two pages joined
by a cursor, as GitHub pages them; the redelivery requests are what the tests read.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from app.cli import main
from app.intake.recovery import LOOKBACK, RECOVER, RECOVER_JOB, recover
from app.jobs.recurring import seed
from tests.fakes.github import FakeGitHub, reply
from tests.lane.conftest import lane, lane_settings, repo
from tests.lane.scenario import Lane, pull_request

__all__ = ["lane", "lane_settings", "repo"]  # the lane's fixtures, run here

NOW = datetime(2026, 5, 20, 12, 0, tzinfo=UTC)


def attempt(id: int, guid: str, status_code: int, minutes_ago: int, **extra: Any) -> dict[str, Any]:
    return {
        "id": id,
        "guid": guid,
        "delivered_at": (NOW - timedelta(minutes=minutes_ago)).isoformat().replace("+00:00", "Z"),
        "redelivery": extra.pop("redelivery", False),
        "duration": 0.1,
        "status": "OK" if 200 <= status_code < 300 else "Invalid HTTP Response: 503",
        "status_code": status_code,
        "event": "pull_request",
        "action": "opened",
        "installation_id": 4242,
        "repository_id": 1,
        **extra,
    }


PAGE_ONE = [
    attempt(9, "guid-redelivered-ok", 202, 5, redelivery=True),
    attempt(8, "guid-lost", 503, 10),
    attempt(7, "guid-stored", 503, 20),  # GitHub saw a timeout, but we stored it
    attempt(6, "guid-redelivered-ok", 503, 30),
]
PAGE_TWO = [
    attempt(5, "guid-lost-twice", 0, 40),  # no answer at all
    attempt(4, "guid-lost-twice", 502, 50),
    attempt(3, "guid-fine", 202, 60),
    attempt(2, "guid-ancient", 503, 60 * 25),  # before the window
]


def serve_deliveries(fake: FakeGitHub) -> list[int]:
    """The deliveries API; returns the ids whose redelivery was asked for, in order."""
    asked: list[int] = []

    def listing(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("cursor") == "page2":
            return reply(PAGE_TWO)
        return reply(PAGE_ONE, next_page="/app/hook/deliveries?per_page=100&cursor=page2")

    def redeliver(request: httpx.Request, id: str) -> httpx.Response:
        asked.append(int(id))
        return reply({}, status=202)

    fake.router.get("/app/hook/deliveries").mock(side_effect=listing)
    fake.router.post(path__regex=r"/app/hook/deliveries/(?P<id>\d+)/attempts").mock(
        side_effect=redeliver
    )
    return asked


async def test_only_lost_deliveries_we_never_stored_are_redelivered_once(
    lane: Lane, fake_github: FakeGitHub
) -> None:
    asked = serve_deliveries(fake_github)
    await lane.post_webhook("pull_request", pull_request(), delivery="guid-stored")
    assert lane.services.gateway is not None

    result = await recover(lane.services, lane.services.gateway, since=NOW - LOOKBACK)

    # Newest attempt of each lost guid, oldest first; pages followed; the rest left alone.
    assert asked == [5, 8]
    assert result.redelivered == ("guid-lost-twice", "guid-lost")
    assert (result.listed, result.missing) == (7, 2)


async def test_a_run_is_bounded(lane: Lane, fake_github: FakeGitHub) -> None:
    asked = serve_deliveries(fake_github)
    assert lane.services.gateway is not None

    result = await recover(lane.services, lane.services.gateway, since=NOW - LOOKBACK, limit=1)

    assert asked == [5]
    assert result.missing == 3  # guid-stored is not stored in this test


async def test_the_recurring_job_runs_it_and_queues_its_next_slot(
    lane: Lane, fake_github: FakeGitHub
) -> None:
    asked = serve_deliveries(fake_github)
    await lane.post_webhook("pull_request", pull_request(), delivery="guid-stored")
    lane.clock.set(NOW)
    seed(lane.services.engine, [RECOVER], now=NOW - timedelta(minutes=1))
    lane.clock.set(NOW + timedelta(minutes=1))
    await lane.run_due()

    assert asked == [5, 8]
    assert [(job.key, job.status) for job in lane.jobs(RECOVER_JOB)] == [
        ("deliveries-recover:2026-05-20T12:00", "done"),
        ("deliveries-recover:2026-05-20T12:10", "queued"),
    ]


@pytest.mark.usefixtures("app_cli_env")
def test_by_hand_the_command_says_what_it_redelivered(
    fake_github: FakeGitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    asked = serve_deliveries(fake_github)

    # The listing's times are fixed in May: look back to a day before NOW.
    hours = (datetime.now(UTC) - NOW).total_seconds() / 3600 + 26

    # Redeliveries only: the sweep's own figures are tests/lane/test_reconcile.py's.
    command = ["deliveries", "recover", "--since-hours", f"{hours:.0f}", "--no-sweep", "--json"]
    assert main(command) == 0
    assert json.loads(capsys.readouterr().out) == {
        "listed": 8,
        "missing": 4,
        "redelivered": ["guid-ancient", "guid-lost-twice", "guid-stored", "guid-lost"],
        "failed": [],
    }
    assert asked == [2, 5, 7, 8]


def test_a_refused_or_much_retried_delivery_is_not_asked_for_again() -> None:
    from app.github.hook_deliveries import HookDelivery
    from app.intake.recovery import missing

    def made(id: int, guid: str, code: int, minutes_ago: int, **extra: Any) -> HookDelivery:
        return HookDelivery.model_validate(attempt(id, guid, code, minutes_ago, **extra))

    attempts = [
        made(1, "refused", 401, 5),  # our signature check refused it: it would be again
        made(2, "too-large", 413, 6),
        *(made(3 + n, "stubborn", 503, 10 + n, redelivery=n > 0) for n in range(4)),
        made(9, "throttled", 429, 30),
        made(10, "no-answer", 0, 31),
    ]

    assert [a.guid for a in missing(attempts, stored=set())] == ["no-answer", "throttled"]
