"""A fake GitHub at the HTTP boundary (respx), shared by every test that talks to GitHub.

The fake serves GitHub Enterprise Server's URL layout (``/api/v3``), so every test also proves
that ``GITHUB_API_URL`` is honoured. Replies come from ``tests/fixtures/github/*.json``, shaped
like GitHub's real ones. The App's RSA key is made per test session, never stored.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import SecretStr

from app.github.gateway import GitHubGateway
from app.rules.model import PullRequestSnapshot
from app.settings import Settings
from tests.fakes.clock import FakeClock

API_URL = "https://github.acme.example/api/v3"
APP_ID = "12345"
INSTALLATION_ID = 4242
REPO = "acme/bookstore-platform"
NUMBER = 4321
SHA = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c"
FIXTURES = Path(__file__).parent.parent / "fixtures" / "github"


def load(name: str) -> Any:
    """A reply body from ``tests/fixtures/github/<name>.json``."""
    return json.loads((FIXTURES / f"{name}.json").read_text())


def reply(
    body: Any = None,
    *,
    status: int = 200,
    etag: str | None = None,
    next_page: str | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """A GitHub-like reply; ``next_page`` is a path (with query) under the API URL."""
    all_headers = {"x-ratelimit-limit": "5000", "x-ratelimit-remaining": "4999"}
    if etag:
        all_headers["etag"] = etag
    if next_page:
        all_headers["link"] = (
            f'<{API_URL}{next_page}>; rel="next", <{API_URL}{next_page}>; rel="last"'
        )
    all_headers |= headers or {}
    if body is None:
        return httpx.Response(status, headers=all_headers)
    return httpx.Response(status, json=body, headers=all_headers)


# PR #4321 as its webhook describes it (the commits, files and checks are read later).
_SNAPSHOT = PullRequestSnapshot(
    repo_full_name=REPO,
    number=NUMBER,
    title="HOTFIX: INC-2026-05-20-001 catalog nil-deref",
    body="Approver: @alice",
    author_login="bob",
    head_ref="hotfix/INC-2026-05-20-001-catalog-nil-deref",
    head_sha=SHA,
    base_ref="main",
    labels=("hotfix",),
    changed_files=2,
)


def snapshot(**changes: Any) -> PullRequestSnapshot:
    """PR #4321 as a webhook describes it, before the gateway reads the rest from GitHub."""
    return dataclasses.replace(_SNAPSHOT, **changes)


# The id GitHub gives the check run we create (``check_run_created.json``).
CHECK_RUN_ID: int = load("check_run_created")["id"]


def token_reply(token: str) -> httpx.Response:
    """GitHub's answer to a token exchange: ``token``, valid for an hour."""
    # githubkit measures the lifetime against the real clock, whatever the gateway's says.
    expires = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return reply(load("access_token") | {"token": token, "expires_at": expires}, status=201)


class FakeGitHub:
    """The respx router plus helpers for the replies most tests need."""

    def __init__(self, router: respx.MockRouter) -> None:
        self.router = router
        # Pull requests as GitHub has them now, by number (what ``GET /pulls/N`` answers in
        # the lane's fake repository): the latest copy a test delivered in a webhook.
        self.pulls: dict[int, dict[str, Any]] = {}

    def token(
        self, *replies: str | httpx.Response, installation_id: int = INSTALLATION_ID
    ) -> respx.Route:
        """The installation token exchange, answering ``replies`` in turn.

        A string is a token that lives an hour, a response is sent as it is; without
        ``replies`` every exchange gets a fresh ``ghs_first``. The ``fake_github`` fixture
        has already set this up for ``INSTALLATION_ID``: call it again only in a test about
        tokens, to script the exchange (it re-mocks the same route) or to count its calls.
        """
        route = self.router.post(f"/app/installations/{installation_id}/access_tokens")
        if not replies:
            return route.mock(side_effect=lambda request: token_reply("ghs_first"))
        return route.mock(
            side_effect=[token_reply(item) if isinstance(item, str) else item for item in replies]
        )

    def route(
        self, method: str, path: str, *replies: httpx.Response | Exception, **params: str
    ) -> respx.Route:
        """Answer ``method path`` (query ``params`` must match) with ``replies`` in turn.

        An exception in ``replies`` is raised as the transport would (a timeout, a reset).
        """
        route = self.router.route(method=method, path=path, params=params or None)
        if len(replies) == 1 and isinstance(replies[0], httpx.Response):
            return route.mock(return_value=replies[0])
        return route.mock(side_effect=list(replies))

    def get(self, path: str, *replies: httpx.Response | Exception, **params: str) -> respx.Route:
        return self.route("GET", path, *replies, **params)

    # --- what most tests of one pull request need -----------------------------------------------

    def serve_checks(self, sha: str = SHA) -> None:
        """The check runs and the combined status of ``sha``, from the fixtures."""
        self.get(f"/repos/{REPO}/commits/{sha}/check-runs", reply(load("check_runs")))
        self.get(f"/repos/{REPO}/commits/{sha}/status", reply(load("combined_status")))

    def accept_status(self, sha: str = SHA) -> respx.Route:
        """Accept our commit status on ``sha``."""
        return self.route(
            "POST", f"/repos/{REPO}/statuses/{sha}", reply(load("status_created"), status=201)
        )

    def accept_check_run(self) -> respx.Route:
        """Accept creating our check run; GitHub answers with ``check_run_created.json``."""
        return self.route(
            "POST", f"/repos/{REPO}/check-runs", reply(load("check_run_created"), status=201)
        )

    def accept_check_run_update(self, run_id: int = CHECK_RUN_ID) -> respx.Route:
        """Accept updating check run ``run_id`` (by default the one ``accept_check_run`` made)."""
        return self.route(
            "PATCH", f"/repos/{REPO}/check-runs/{run_id}", reply(load("check_run_created"))
        )

    # --- what was sent ----------------------------------------------------------------------------

    @property
    def requests(self) -> list[str]:
        """Every request sent so far, as ``METHOD /path?query`` under the API URL."""
        return [
            f"{call.request.method} {call.request.url.raw_path.decode().removeprefix('/api/v3')}"
            for call in self.router.calls
        ]

    def sent_json(self, route: respx.Route) -> list[Any]:
        return [json.loads(call.request.content) for call in route.calls]


def pem(key: rsa.RSAPrivateKey) -> str:
    """The App key as the PEM text GitHub hands out."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()


def app_settings(app_key: rsa.RSAPrivateKey) -> dict[str, Any]:
    """The settings that make hotfix-lane the App this fake GitHub serves."""
    return {
        "github_app_id": APP_ID,
        "github_private_key": SecretStr(pem(app_key)),
        "github_api_url": API_URL,
    }


@pytest.fixture
def settings(make_settings: Callable[..., Settings], app_key: rsa.RSAPrivateKey) -> Settings:
    return make_settings(
        **app_settings(app_key),
        public_url=None,
        membership_cache_seconds=600,
        policy_cache_seconds=3600,
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sleeps() -> list[float]:
    """The pauses the gateway asked for, in order (it never really sleeps in tests)."""
    return []


@pytest.fixture
def fake_github() -> Iterator[FakeGitHub]:
    """The fake, already answering ``INSTALLATION_ID``'s token exchange."""
    with respx.mock(base_url=API_URL, assert_all_called=False) as router:
        # The other fakes (Prometheus) are real servers on loopback: their requests go out.
        router.route(scheme="http", host="127.0.0.1").pass_through()
        github = FakeGitHub(router)
        github.token()
        yield github


@pytest.fixture
async def gateway(
    settings: Settings, clock: FakeClock, sleeps: list[float], fake_github: FakeGitHub
) -> AsyncIterator[GitHubGateway]:
    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    gateway = GitHubGateway(settings, clock=clock, sleep=sleep)
    yield gateway
    await gateway.aclose()
