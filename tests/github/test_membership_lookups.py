"""Team-membership lookups: once per pair, a few at a time, and no more than the cap.

A pull request decides which logins the rules ask about, so the gateway bounds what that costs:
``HOTFIX_LANE_MAX_MEMBERSHIP_LOOKUPS`` requests per evaluation at most, the pairs past it
counting as no member (fail closed) and kept so that the check run can say so.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from app.github.errors import GitHubRejected
from app.github.gateway import GitHubGateway
from app.github.organisation import LOOKUPS_AT_ONCE
from app.github.snapshot import complete
from app.policy.loader import DEFAULT_SOURCE, default_policy_text, load_policy
from app.rules.facts import Memberships
from app.settings import Settings
from tests.fakes.clock import FakeClock
from tests.fakes.github import INSTALLATION_ID, FakeGitHub, app_settings, load, reply, snapshot

CAP = 6
MEMBERSHIPS = r"/orgs/acme/teams/(?P<team>[^/]+)/memberships/(?P<login>[^/]+)"


@pytest.fixture
async def capped(
    make_settings: Callable[..., Settings],
    app_key: rsa.RSAPrivateKey,
    clock: FakeClock,
    fake_github: FakeGitHub,
) -> AsyncIterator[GitHubGateway]:
    """A gateway that looks up at most ``CAP`` memberships per call."""

    async def no_wait(_seconds: float) -> None:
        return None

    settings = make_settings(**app_settings(app_key), max_membership_lookups=CAP)
    gateway = GitHubGateway(settings, clock=clock, sleep=no_wait)
    yield gateway
    await gateway.aclose()


class Members:
    """The membership route: ``members`` are active; counts the requests in flight."""

    def __init__(self, *members: str) -> None:
        self.members = set(members)
        self.in_flight = 0
        self.most_in_flight = 0
        self.answered = 0

    async def __call__(self, request: httpx.Request, team: str, login: str) -> httpx.Response:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await asyncio.sleep(0.005)  # long enough for the others to start
        finally:
            self.in_flight -= 1
        self.answered += 1
        if f"{team}/{login}" in self.members:
            return reply(load("team_membership_active"))
        return reply(load("not_found"), status=404)


def lookups(fake_github: FakeGitHub) -> list[str]:
    return [request for request in fake_github.requests if "/memberships/" in request]


async def test_lookups_stop_at_the_cap_and_the_rest_are_unchecked(
    capped: GitHubGateway, fake_github: FakeGitHub
) -> None:
    fake_github.router.get(path__regex=MEMBERSHIPS).mock(side_effect=Members("sre-leads/u2"))
    pairs = [("sre-leads", f"u{n}") for n in range(1, 11)]

    members = await capped.team_members(INSTALLATION_ID, "acme", pairs)

    assert lookups(fake_github) == [
        f"GET /orgs/acme/teams/sre-leads/memberships/u{n}" for n in range(1, CAP + 1)
    ]
    assert isinstance(members, Memberships)
    assert members == {"sre-leads": frozenset({"u2"})}
    assert members.unchecked == {("sre-leads", f"u{n}") for n in range(CAP + 1, 11)}
    assert members.cap == CAP


async def test_lookups_run_a_few_at_a_time_in_order(
    capped: GitHubGateway, fake_github: FakeGitHub
) -> None:
    route = Members("sre-leads/u1", "eng-managers/u3")
    fake_github.router.get(path__regex=MEMBERSHIPS).mock(side_effect=route)
    pairs = [(team, f"u{n}") for n in range(1, 4) for team in ("sre-leads", "eng-managers")]

    members = await capped.team_members(INSTALLATION_ID, "acme", pairs)

    assert route.most_in_flight == LOOKUPS_AT_ONCE
    assert members == {"sre-leads": frozenset({"u1"}), "eng-managers": frozenset({"u3"})}
    assert len(lookups(fake_github)) == CAP


async def test_a_pair_is_looked_up_once_whatever_the_case_of_the_login(
    capped: GitHubGateway, fake_github: FakeGitHub
) -> None:
    fake_github.router.get(path__regex=MEMBERSHIPS).mock(side_effect=Members("sre-leads/alice"))
    pairs = [("sre-leads", "Alice"), ("sre-leads", "alice"), ("sre-leads", "ALICE")]

    members = await capped.team_members(INSTALLATION_ID, "acme", pairs)

    assert lookups(fake_github) == ["GET /orgs/acme/teams/sre-leads/memberships/alice"]
    assert members == {"sre-leads": frozenset({"alice"})}
    assert members.unchecked == frozenset()


async def test_a_failed_lookup_fails_the_call_and_the_others_stop(
    capped: GitHubGateway, fake_github: FakeGitHub
) -> None:
    route = Members()

    async def respond(request: httpx.Request, team: str, login: str) -> httpx.Response:
        if login == "u3":
            return reply({"message": "Forbidden"}, status=403)
        return await route(request, team, login)

    fake_github.router.get(path__regex=MEMBERSHIPS).mock(side_effect=respond)
    pairs = [("sre-leads", f"u{n}") for n in range(1, 7)]

    with pytest.raises(GitHubRejected):
        await capped.team_members(INSTALLATION_ID, "acme", pairs)
    await asyncio.sleep(0.02)  # a lookup left running would be answered now

    # u1 first on its own, then u2 to u5 at once: u3 fails, the others are cancelled.
    assert (route.answered, route.in_flight) == (1, 0)


def _policy(override: str) -> Any:
    return load_policy([(DEFAULT_SOURCE, default_policy_text()), ("acme/api", override)])


async def test_complete_puts_the_capped_memberships_in_the_snapshot_and_logs_it(
    capped: GitHubGateway, fake_github: FakeGitHub, caplog: pytest.LogCaptureFixture
) -> None:
    fake_github.router.get(path__regex=MEMBERSHIPS).mock(side_effect=Members("team-8/alice"))
    fake_github.get("/users/alice", reply(load("user")))  # the approver's e-mails
    teams = ", ".join(f"team-{n}" for n in range(1, 9))
    policy = _policy(f"teams:\n  approvers: [{teams}]\n")

    with caplog.at_level(logging.WARNING, logger="app.github.snapshot"):
        # alice confirmed with /hotfix approve: no reviews to read for that.
        confirmed = replace(snapshot(), approver_confirmations=("alice",))
        completed = await complete(capped, INSTALLATION_ID, confirmed, policy)

    assert isinstance(completed.teams, Memberships)
    assert completed.teams.unchecked == {("team-7", "alice"), ("team-8", "alice")}
    assert not completed.is_member("team-8", "alice")  # not looked up: no member
    assert len(lookups(fake_github)) == CAP
    assert caplog.messages == [
        f"PR #4321 of acme/bookstore-platform: 2 team memberships not looked up (cap {CAP}); "
        "they count as none"
    ]
