"""App authentication: the JWT, installation tokens, their cache and their renewal."""

from __future__ import annotations

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import SecretStr

from app.github.errors import AppNotInstalled, GitHubRejected
from app.github.gateway import GitHubGateway
from app.retry import PermanentError
from app.settings import ConfigError, Settings
from tests.fakes.clock import FakeClock
from tests.fakes.github import (
    APP_ID,
    INSTALLATION_ID,
    NUMBER,
    REPO,
    FakeGitHub,
    load,
    reply,
)

PR_PATH = f"/repos/{REPO}/pulls/{NUMBER}"


async def test_token_exchange_sends_an_rs256_jwt_for_the_app(
    gateway: GitHubGateway, fake_github: FakeGitHub, app_key: rsa.RSAPrivateKey
) -> None:
    exchange = fake_github.token("ghs_first")
    pull = fake_github.get(PR_PATH, reply(load("pull_request")))

    pr = await gateway.pull_request(INSTALLATION_ID, REPO, NUMBER)

    assert pr.number == NUMBER
    assert fake_github.requests == [
        f"POST /app/installations/{INSTALLATION_ID}/access_tokens",
        f"GET {PR_PATH}",
    ]
    scheme, token = exchange.calls.last.request.headers["authorization"].split(" ")
    assert scheme == "Bearer"
    assert jwt.get_unverified_header(token)["alg"] == "RS256"
    claims = jwt.decode(token, app_key.public_key(), algorithms=["RS256"])
    assert claims["iss"] == APP_ID
    # GitHub refuses JWTs that live longer than ten minutes.
    assert 0 < claims["exp"] - claims["iat"] <= 600
    assert pull.calls.last.request.headers["authorization"] == "token ghs_first"
    assert pull.calls.last.request.headers["x-github-api-version"] == "2022-11-28"


async def test_installation_token_is_reused_until_shortly_before_it_expires(
    gateway: GitHubGateway, fake_github: FakeGitHub, clock: FakeClock
) -> None:
    exchange = fake_github.token("ghs_first", "ghs_second")
    pull = fake_github.get(PR_PATH, reply(load("pull_request")))

    await gateway.pull_request(INSTALLATION_ID, REPO, NUMBER)
    clock.advance(minutes=50)
    await gateway.pull_request(INSTALLATION_ID, REPO, NUMBER)
    assert exchange.call_count == 1

    # Tokens live an hour; we renew five minutes early rather than risk a 401 mid-job.
    clock.advance(minutes=5)
    await gateway.pull_request(INSTALLATION_ID, REPO, NUMBER)
    assert exchange.call_count == 2
    assert pull.calls.last.request.headers["authorization"] == "token ghs_second"


async def test_a_revoked_token_is_renewed_once_and_the_request_repeated(
    gateway: GitHubGateway, fake_github: FakeGitHub
) -> None:
    exchange = fake_github.token("ghs_revoked", "ghs_fresh")
    pull = fake_github.get(
        PR_PATH, reply(load("bad_credentials"), status=401), reply(load("pull_request"))
    )

    pr = await gateway.pull_request(INSTALLATION_ID, REPO, NUMBER)

    assert pr.head.ref.startswith("hotfix/")
    assert exchange.call_count == 2
    assert [c.request.headers["authorization"] for c in pull.calls] == [
        "token ghs_revoked",
        "token ghs_fresh",
    ]


async def test_a_second_401_gives_up(gateway: GitHubGateway, fake_github: FakeGitHub) -> None:
    fake_github.token("ghs_a", "ghs_b")
    fake_github.get(PR_PATH, reply(load("bad_credentials"), status=401))

    with pytest.raises(GitHubRejected) as raised:
        await gateway.pull_request(INSTALLATION_ID, REPO, NUMBER)

    assert raised.value.status_code == 401
    assert len(fake_github.requests) == 4


async def test_an_uninstalled_app_is_a_permanent_error(
    gateway: GitHubGateway, fake_github: FakeGitHub
) -> None:
    fake_github.token(reply(load("not_found"), status=404))

    with pytest.raises(AppNotInstalled) as raised:
        await gateway.pull_request(INSTALLATION_ID, REPO, NUMBER)

    assert isinstance(raised.value, PermanentError)


async def test_each_gateway_keeps_its_own_tokens(
    settings: Settings, gateway: GitHubGateway, fake_github: FakeGitHub
) -> None:
    # githubkit's default token cache is process-wide; ours is per client.
    exchange = fake_github.token("ghs_one", "ghs_two")
    fake_github.get(PR_PATH, reply(load("pull_request")))
    other = GitHubGateway(settings)
    try:
        await gateway.pull_request(INSTALLATION_ID, REPO, NUMBER)
        await other.pull_request(INSTALLATION_ID, REPO, NUMBER)
    finally:
        await other.aclose()

    assert exchange.call_count == 2


@pytest.mark.parametrize(
    ("overrides", "complaint"),
    [
        ({"github_app_id": None}, "GITHUB_APP_ID"),
        ({"github_private_key": SecretStr("not a key")}, "PEM"),
    ],
    ids=["without an app id", "with a key that is no PEM"],
)
def test_the_gateway_refuses_to_start(
    settings: Settings, overrides: dict[str, object], complaint: str
) -> None:
    broken = settings.model_copy(update=overrides)
    with pytest.raises(ConfigError, match=complaint):
        GitHubGateway(broken)
