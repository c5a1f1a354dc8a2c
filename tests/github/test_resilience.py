"""Retries, rate limits and giving up: the job is deferred or failed, never answered wrongly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from app.github.errors import GitHubNotFound, GitHubRejected, GitHubUnavailable
from app.github.gateway import GitHubGateway
from app.retry import Defer
from tests.fakes.clock import FakeClock
from tests.fakes.github import (
    INSTALLATION_ID,
    NUMBER,
    REPO,
    FakeGitHub,
    load,
    reply,
)

PR_PATH = f"/repos/{REPO}/pulls/{NUMBER}"


async def test_a_502_is_retried_after_a_short_pause(
    gateway: GitHubGateway, fake_github: FakeGitHub, sleeps: list[float]
) -> None:
    pull = fake_github.get(
        PR_PATH, reply(load("server_error"), status=502), reply(load("pull_request"))
    )

    pr = await gateway.pull_request(INSTALLATION_ID, REPO, NUMBER)

    assert pr.number == NUMBER
    assert pull.call_count == 2
    assert sleeps == [0.5]


@pytest.mark.parametrize(
    "failure",
    [httpx.ReadTimeout("read timed out"), httpx.ConnectError("connection refused")],
    ids=["a timeout", "a connection error"],
)
async def test_transport_failures_are_retried(
    gateway: GitHubGateway, fake_github: FakeGitHub, sleeps: list[float], failure: Exception
) -> None:
    fake_github.get(PR_PATH, failure, reply(load("pull_request")))

    pr = await gateway.pull_request(INSTALLATION_ID, REPO, NUMBER)

    assert pr.number == NUMBER
    assert sleeps == [0.5]


async def test_after_three_tries_the_gateway_gives_up(
    gateway: GitHubGateway, fake_github: FakeGitHub, sleeps: list[float]
) -> None:
    pull = fake_github.get(PR_PATH, reply(load("server_error"), status=503))

    with pytest.raises(GitHubUnavailable, match="503"):
        await gateway.pull_request(INSTALLATION_ID, REPO, NUMBER)

    assert pull.call_count == 3
    assert sleeps == [0.5, 2.0]


async def test_a_secondary_rate_limit_defers_the_job_for_retry_after(
    gateway: GitHubGateway, fake_github: FakeGitHub, clock: FakeClock, sleeps: list[float]
) -> None:
    pull = fake_github.get(
        PR_PATH,
        reply(load("secondary_rate_limit"), status=403, headers={"retry-after": "30"}),
    )

    with pytest.raises(Defer) as raised:
        await gateway.pull_request(INSTALLATION_ID, REPO, NUMBER)

    assert raised.value.until == clock.now() + timedelta(seconds=30)
    assert "rate limit" in raised.value.reason
    # No spinning: one request, no pause, the queue runs the job again later.
    assert pull.call_count == 1
    assert sleeps == []


async def test_an_exhausted_primary_limit_defers_until_the_reset(
    gateway: GitHubGateway, fake_github: FakeGitHub
) -> None:
    reset = datetime(2026, 5, 20, 9, 47, 11, tzinfo=UTC)
    fake_github.get(
        PR_PATH,
        reply(
            load("primary_rate_limit"),
            status=403,
            headers={
                "x-ratelimit-remaining": "0",
                "x-ratelimit-reset": str(int(reset.timestamp())),
            },
        ),
    )

    with pytest.raises(Defer) as raised:
        await gateway.pull_request(INSTALLATION_ID, REPO, NUMBER)

    assert raised.value.until == reset + timedelta(seconds=1)


@pytest.mark.parametrize("status", [429, 403], ids=["a 429", "a 403"])
async def test_a_secondary_limit_without_a_time_waits_a_minute(
    gateway: GitHubGateway, fake_github: FakeGitHub, clock: FakeClock, status: int
) -> None:
    fake_github.get(
        PR_PATH,
        reply(load("secondary_rate_limit"), status=status, headers={"x-ratelimit-remaining": "12"}),
    )

    with pytest.raises(Defer) as raised:
        await gateway.pull_request(INSTALLATION_ID, REPO, NUMBER)

    assert raised.value.until == clock.now() + timedelta(minutes=1)


async def test_a_rate_limited_token_exchange_defers_too(
    gateway: GitHubGateway, fake_github: FakeGitHub, clock: FakeClock
) -> None:
    fake_github.token(
        reply(load("secondary_rate_limit"), status=403, headers={"retry-after": "90"})
    )

    with pytest.raises(Defer) as raised:
        await gateway.pull_request(INSTALLATION_ID, REPO, NUMBER)

    assert raised.value.until == clock.now() + timedelta(seconds=90)


async def test_a_missing_permission_is_not_retried(
    gateway: GitHubGateway, fake_github: FakeGitHub, sleeps: list[float]
) -> None:
    pull = fake_github.get(PR_PATH, reply(load("forbidden"), status=403))

    with pytest.raises(GitHubRejected, match="Resource not accessible by integration"):
        await gateway.pull_request(INSTALLATION_ID, REPO, NUMBER)

    assert pull.call_count == 1
    assert sleeps == []


async def test_a_missing_pull_request_is_not_found(
    gateway: GitHubGateway, fake_github: FakeGitHub
) -> None:
    fake_github.get(PR_PATH, reply(load("not_found"), status=404))

    with pytest.raises(GitHubNotFound):
        await gateway.pull_request(INSTALLATION_ID, REPO, NUMBER)


async def test_a_reply_of_the_wrong_shape_fails_the_job(
    gateway: GitHubGateway, fake_github: FakeGitHub
) -> None:
    fake_github.get(PR_PATH, httpx.Response(200, text="<html>proxy error</html>"))

    with pytest.raises(GitHubUnavailable, match="not shaped as expected"):
        await gateway.pull_request(INSTALLATION_ID, REPO, NUMBER)
