"""A fake GitHub at the HTTP boundary (respx), shared by every test that talks to GitHub.

The fake serves GitHub Enterprise Server's URL layout (``/api/v3``), so every test also proves
that ``GITHUB_API_URL`` is honoured. Replies come from ``tests/fixtures/github/*.json``, shaped
like GitHub's real ones. The App's RSA key is made per test session, never stored.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
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
from app.settings import Settings
from tests.fakes.clock import FakeClock

API_URL = "https://github.acme.example/api/v3"
APP_ID = "12345"
INSTALLATION_ID = 4242
REPO = "acme/bookstore-platform"
NUMBER = 4321
SHA = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c"
FIXTURES = Path(__file__).parent.parent / "fixtures" / "github"
WEBHOOKS = Path(__file__).parent.parent / "fixtures" / "webhooks"


def load(name: str) -> Any:
    """A reply body from ``tests/fixtures/github/<name>.json``."""
    return json.loads((FIXTURES / f"{name}.json").read_text())


def load_webhook(name: str) -> dict[str, Any]:
    """A delivery body from ``tests/fixtures/webhooks/<name>.json``."""
    data: dict[str, Any] = json.loads((WEBHOOKS / f"{name}.json").read_text())
    return data


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


class FakeGitHub:
    """The respx router plus helpers for the replies most tests need."""

    def __init__(self, router: respx.MockRouter) -> None:
        self.router = router

    def token(self, *tokens: str, installation_id: int = INSTALLATION_ID) -> respx.Route:
        """The installation token exchange, answering ``tokens`` in turn (one hour each)."""
        # githubkit measures the lifetime against the real clock, whatever the gateway's says.
        expires = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        replies = [
            reply(load("access_token") | {"token": token, "expires_at": expires}, status=201)
            for token in tokens or ("ghs_first",)
        ]
        return self.router.post(f"/app/installations/{installation_id}/access_tokens").mock(
            side_effect=replies
        )

    def route(self, method: str, path: str, *replies: httpx.Response, **params: str) -> respx.Route:
        """Answer ``method path`` (query ``params`` must match) with ``replies`` in turn."""
        route = self.router.route(method=method, path=path, params=params or None)
        if len(replies) == 1:
            return route.mock(return_value=replies[0])
        return route.mock(side_effect=list(replies))

    def get(self, path: str, *replies: httpx.Response, **params: str) -> respx.Route:
        return self.route("GET", path, *replies, **params)

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


@pytest.fixture
def settings(app_key: rsa.RSAPrivateKey) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        github_app_id=APP_ID,
        github_private_key=SecretStr(pem(app_key)),
        github_api_url=API_URL,
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
    with respx.mock(base_url=API_URL, assert_all_called=False) as router:
        yield FakeGitHub(router)


@pytest.fixture
async def gateway(
    settings: Settings, clock: FakeClock, sleeps: list[float], fake_github: FakeGitHub
) -> AsyncIterator[GitHubGateway]:
    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    gateway = GitHubGateway(settings, clock=clock, sleep=sleep)
    yield gateway
    await gateway.aclose()
