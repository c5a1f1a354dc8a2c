"""A fake GitHub at the HTTP boundary (respx), shared by every test that talks to GitHub.

The fake serves GitHub Enterprise Server's URL layout (``/api/v3``), so every test also proves
that ``GITHUB_API_URL`` is honoured. Replies come from ``tests/fixtures/github/*.json``, shaped
like GitHub's real ones. The App's RSA key is made per test session, never stored.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import zlib
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

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
# GitHub's web pages on the same Enterprise Server (the OAuth sign-in lives there, not under
# the API): the app derives it from the API URL by dropping ``/api/v3``.
WEB_URL = "https://github.acme.example"
APP_ID = "12345"
INSTALLATION_ID = 4242
REPO = "acme/bookstore-platform"
NUMBER = 4321
SHA = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c"
FIXTURES = Path(__file__).parent.parent / "fixtures" / "github"


def load(name: str) -> Any:
    """A reply body from ``tests/fixtures/github/<name>.json``."""
    return json.loads((FIXTURES / f"{name}.json").read_text())


def load_webhook(name: str) -> Any:
    """A webhook payload from ``tests/fixtures/webhooks/<name>.json``."""
    return json.loads((FIXTURES.parent / "webhooks" / f"{name}.json").read_text())


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
        # Who signs in when a browser reaches GitHub's authorize page (see ``oauth``).
        self.oauth_login: str | None = None

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

    # --- signing people in: the web view's OAuth, with a person's own token ----------------------

    def oauth(
        self,
        *,
        client_id: str,
        client_secret: str,
        users: Mapping[str, Sequence[str]],
        installation_id: int = INSTALLATION_ID,
    ) -> None:
        """GitHub's OAuth web flow for the App's credentials, and what each person can read.

        ``users`` maps each login that can sign in to the repositories (``owner/name``) that
        person can read in installation ``installation_id``. The authorize page (on
        ``WEB_URL``) signs in ``oauth_login``: set it before the browser follows the link;
        ``None`` is a person who clicks Cancel. It sends the browser back to ``redirect_uri``
        with the code ``code-<login>`` and the ``state``; the code exchanges for the token
        ``gho_<login>token``, the one ``/user``, ``/user/installations`` and the
        installation's repositories accept. ``tokens_used`` tells which token each call carried.
        """
        flow = _OAuthFlow(
            self,
            client_id=client_id,
            client_secret=client_secret,
            users={login: list(names) for login, names in users.items()},
            installation_id=installation_id,
        )
        self.router.get(f"{WEB_URL}/login/oauth/authorize").mock(side_effect=flow.authorize)
        self.router.post(f"{WEB_URL}/login/oauth/access_token").mock(side_effect=flow.exchange)
        self.router.get("/user").mock(side_effect=flow.user)
        self.router.get("/user/installations").mock(side_effect=flow.installations)
        self.router.get(
            path__regex=r"^/user/installations/(?P<installation_id>\d+)/repositories$"
        ).mock(side_effect=flow.repositories)

    # --- what was sent ----------------------------------------------------------------------------

    @property
    def requests(self) -> list[str]:
        """Every request sent so far, as ``METHOD /path?query`` under the API URL."""
        return [
            f"{call.request.method} {call.request.url.raw_path.decode().removeprefix('/api/v3')}"
            for call in self.router.calls
        ]

    @property
    def tokens_used(self) -> list[tuple[str, str | None]]:
        """Every request the fake answered, as ``requests`` shows it, with the token it carried.

        The token is the ``Authorization`` header's credential without its ``Bearer`` or
        ``token`` scheme: the App's JWT or an installation token (``ghs_…``) for the App's
        calls, ``gho_<login>token`` for a signed-in person's, ``None`` without one. Requests
        that went out for real (to servers on 127.0.0.1) are left out.
        """
        host = httpx.URL(API_URL).host
        return [
            (
                f"{call.request.method} "
                f"{call.request.url.raw_path.decode().removeprefix('/api/v3')}",
                _credential(call.request),
            )
            for call in self.router.calls
            if call.request.url.host == host
        ]

    def sent_json(self, route: respx.Route) -> list[Any]:
        return [json.loads(call.request.content) for call in route.calls]


# --- the OAuth web flow behind ``FakeGitHub.oauth`` -----------------------------------------------


def _credential(request: httpx.Request) -> str | None:
    """The token in ``Authorization`` (GitHub takes ``Bearer`` and ``token`` alike)."""
    scheme, _, credential = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() not in {"bearer", "token"}:
        return None
    return credential.strip() or None


def _number(value: str | None, default: int) -> int:
    """A paging parameter; GitHub ignores one that is not a number."""
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


def _page(status: int, text: str) -> httpx.Response:
    """One of GitHub's HTML pages, for a browser that reaches it."""
    return httpx.Response(status, html=f"<!DOCTYPE html><title>GitHub</title><p>{text}</p>")


def _user(login: str) -> dict[str, Any]:
    """``GET /user`` for ``login``: ``user.json`` itself for its login, a copy for another."""
    user: dict[str, Any] = load("user")
    if login == user["login"]:
        return user
    user_id = 2000 + zlib.crc32(login.encode()) % 100_000
    # The URLs name the login; the fixture's person's name and address are not this one's.
    copy: dict[str, Any] = json.loads(json.dumps(user).replace(f"/{user['login']}", f"/{login}"))
    return copy | {
        "login": login,
        "id": user_id,
        "node_id": base64.b64encode(f"04:User{user_id}".encode()).decode(),
        "avatar_url": f"https://avatars.githubusercontent.com/u/{user_id}?v=4",
        "name": None,
        "email": None,
    }


def _repository(full_name: str) -> dict[str, Any]:
    """A repository as ``/user/installations/{id}/repositories`` lists it."""
    owner, _, name = full_name.partition("/")
    repo_id = 500_000 + zlib.crc32(full_name.lower().encode()) % 100_000
    owner_id = 9000 + zlib.crc32(owner.lower().encode()) % 1000
    return {
        "id": repo_id,
        "node_id": base64.b64encode(f"010:Repository{repo_id}".encode()).decode(),
        "name": name,
        "full_name": full_name,
        "private": True,
        "owner": {
            "login": owner,
            "id": owner_id,
            "url": f"https://api.github.com/users/{owner}",
            "html_url": f"https://github.com/{owner}",
            "type": "Organization",
            "site_admin": False,
        },
        "html_url": f"https://github.com/{full_name}",
        "description": None,
        "fork": False,
        "url": f"https://api.github.com/repos/{full_name}",
        "archived": False,
        "disabled": False,
        "visibility": "private",
        "default_branch": "main",
        "permissions": {
            "admin": False,
            "maintain": False,
            "push": True,
            "triage": True,
            "pull": True,
        },
    }


@dataclasses.dataclass
class _OAuthFlow:
    """The replies of GitHub's OAuth web flow and of the user-token endpoints."""

    fake: FakeGitHub
    client_id: str
    client_secret: str
    users: dict[str, list[str]]
    installation_id: int

    def _login(self, request: httpx.Request) -> str | None:
        """Whose ``gho_<login>token`` the request carries, if it is one this flow gave."""
        token = _credential(request) or ""
        login = token.removeprefix("gho_").removesuffix("token")
        return login if token == f"gho_{login}token" and login in self.users else None

    def authorize(self, request: httpx.Request) -> httpx.Response:
        params = request.url.params
        if params.get("client_id") != self.client_id:
            return _page(400, "The client_id is not that of any application on this GitHub.")
        redirect_uri = params.get("redirect_uri")
        if not redirect_uri:
            return _page(400, "The redirect_uri is missing.")
        login = self.fake.oauth_login
        query: dict[str, str]
        if login is None:
            # The person clicked Cancel: GitHub still goes back, with an error instead of a code.
            query = {
                "error": "access_denied",
                "error_description": "The user has denied your application access.",
                "error_uri": "https://docs.github.com/apps/managing-oauth-apps/"
                "troubleshooting-authorization-request-errors/#access-denied",
            }
        elif login not in self.users:
            return _page(400, f"{login} is not among the people this fake GitHub knows.")
        else:
            query = {"code": f"code-{login}"}
        if "state" in params:
            query["state"] = params["state"]
        separator = "&" if "?" in redirect_uri else "?"
        return httpx.Response(
            302, headers={"location": f"{redirect_uri}{separator}{urlencode(query)}"}
        )

    def exchange(self, request: httpx.Request) -> httpx.Response:
        # GitHub reads the fields from the query string, a form or a JSON body.
        fields = dict(request.url.params)
        if request.content:
            if "json" in request.headers.get("content-type", ""):
                fields |= {key: str(value) for key, value in json.loads(request.content).items()}
            else:
                fields |= dict(parse_qsl(request.content.decode()))
        login = fields.get("code", "").removeprefix("code-")
        body: dict[str, str]
        if (fields.get("client_id"), fields.get("client_secret")) != (
            self.client_id,
            self.client_secret,
        ):
            body = {
                "error": "incorrect_client_credentials",
                "error_description": "The client_id and/or client_secret passed are incorrect.",
            }
        elif fields.get("code") != f"code-{login}" or login not in self.users:
            body = {
                "error": "bad_verification_code",
                "error_description": "The code passed is incorrect or expired.",
            }
        else:
            body = {"access_token": f"gho_{login}token", "token_type": "bearer", "scope": ""}
        # Errors too come with 200; the body's format follows the Accept header.
        if "json" in request.headers.get("accept", ""):
            return httpx.Response(200, json=body)
        return httpx.Response(
            200,
            content=urlencode(body).encode(),
            headers={"content-type": "application/x-www-form-urlencoded; charset=utf-8"},
        )

    def user(self, request: httpx.Request) -> httpx.Response:
        login = self._login(request)
        if login is None:
            return reply(load("bad_credentials"), status=401)
        return reply(_user(login))

    def installations(self, request: httpx.Request) -> httpx.Response:
        login = self._login(request)
        if login is None:
            return reply(load("bad_credentials"), status=401)
        installation = load_webhook("installation.created")["installation"] | {
            "id": self.installation_id,
            "app_id": int(APP_ID),
            "client_id": self.client_id,
            "access_tokens_url": (
                f"https://api.github.com/app/installations/{self.installation_id}/access_tokens"
            ),
            "html_url": (
                "https://github.com/organizations/acme/settings/installations/"
                f"{self.installation_id}"
            ),
        }
        # Only the installations the person can read something in are listed.
        listed = [installation] if self.users[login] else []
        return reply({"total_count": len(listed), "installations": listed})

    def repositories(self, request: httpx.Request, installation_id: str) -> httpx.Response:
        login = self._login(request)
        if login is None:
            return reply(load("bad_credentials"), status=401)
        names = self.users[login]
        if int(installation_id) != self.installation_id or not names:
            return reply(load("not_found"), status=404)
        per_page = min(max(_number(request.url.params.get("per_page"), 30), 1), 100)
        page = max(_number(request.url.params.get("page"), 1), 1)
        last = max(1, -(-len(names) // per_page))
        path = f"/user/installations/{installation_id}/repositories"
        links = {
            "prev": page - 1 if page > 1 else None,
            "next": page + 1 if page < last else None,
            "last": last if page < last else None,
            "first": 1 if page > 1 else None,
        }
        link = ", ".join(
            f'<{API_URL}{path}?per_page={per_page}&page={number}>; rel="{rel}"'
            for rel, number in links.items()
            if number is not None
        )
        listed = names[(page - 1) * per_page : page * per_page]
        return reply(
            {
                "total_count": len(names),
                "repository_selection": "selected",
                "repositories": [_repository(name) for name in listed],
            },
            headers={"link": link} if link else None,
        )


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
def app_cli_env(
    app_key: rsa.RSAPrivateKey, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A command run in ``tmp_path`` (no .env of the checkout) as the App this fake serves,
    on a SQLite file of its own."""
    for name, value in {
        "HOTFIX_LANE_DATABASE_URL": f"sqlite:///{tmp_path}/hotfix-lane.db",
        "HOTFIX_LANE_GITHUB_APP_ID": APP_ID,
        "HOTFIX_LANE_GITHUB_PRIVATE_KEY": pem(app_key),
        "HOTFIX_LANE_GITHUB_API_URL": API_URL,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)


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
