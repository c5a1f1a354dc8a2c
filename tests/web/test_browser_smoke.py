"""The web view's test machinery works together: Chromium, the served app, the fake GitHub."""

from __future__ import annotations

import httpx
from playwright.async_api import Page

from tests.fakes.github import INSTALLATION_ID, REPO, FakeGitHub
from tests.fakes.github_server import github_over_http
from tests.web.browser import save_screenshot
from tests.web.conftest import CLIENT_ID, CLIENT_SECRET

CALLBACK = "http://127.0.0.1:8000/auth/callback"


async def test_a_headless_chromium_reads_the_served_apps_health(
    served_app: str, browser_page: Page
) -> None:
    response = await browser_page.goto(f"{served_app}/healthz")

    assert response is not None and response.status == 200
    assert await browser_page.inner_text("pre") == '{"status":"ok"}'
    await save_screenshot(browser_page, "healthz")


def test_the_fake_github_signs_a_person_in_over_http(fake_github: FakeGitHub) -> None:
    fake_github.oauth(
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        users={"alice": [REPO, "acme/payments", "acme/search"], "bob": []},
    )
    fake_github.oauth_login = "alice"

    with github_over_http(fake_github) as api_url:
        web_url = api_url.removesuffix("/api/v3")
        authorize = httpx.get(
            f"{web_url}/login/oauth/authorize",
            params={"client_id": CLIENT_ID, "redirect_uri": CALLBACK, "state": "st-1"},
        )
        # The callback is the app's own address: the redirect leaves it as it is.
        assert authorize.status_code == 302
        assert authorize.headers["location"] == f"{CALLBACK}?code=code-alice&state=st-1"

        exchange = {"client_id": CLIENT_ID, "code": "code-alice", "redirect_uri": CALLBACK}
        accepted = httpx.post(
            f"{web_url}/login/oauth/access_token",
            data=exchange | {"client_secret": CLIENT_SECRET},
            headers={"Accept": "application/json"},
        )
        assert accepted.json() == {
            "access_token": "gho_alicetoken",
            "token_type": "bearer",
            "scope": "",
        }

        person = httpx.Client(base_url=api_url, headers={"Authorization": "Bearer gho_alicetoken"})
        with person:
            assert person.get("/user").json()["login"] == "alice"
            installations = person.get("/user/installations").json()
            assert [item["id"] for item in installations["installations"]] == [INSTALLATION_ID]
            path = f"/user/installations/{INSTALLATION_ID}/repositories"
            first = person.get(path, params={"per_page": 2, "page": 1})
            assert first.json()["total_count"] == 3
            assert [repo["full_name"] for repo in first.json()["repositories"]] == [
                REPO,
                "acme/payments",
            ]
            # The next page's link is on the served address, as GitHub's is on its own.
            second = person.get(first.links["next"]["url"])
            assert [repo["full_name"] for repo in second.json()["repositories"]] == ["acme/search"]
            assert "next" not in second.links

        refused = httpx.post(
            f"{web_url}/login/oauth/access_token",
            data=exchange | {"client_secret": "not-the-secret"},
            headers={"Accept": "application/json"},
        )
        assert refused.status_code == 200
        assert refused.json()["error"] == "incorrect_client_credentials"
        stranger = httpx.get(f"{api_url}/user", headers={"Authorization": "Bearer ghs_first"})
        assert stranger.status_code == 401

    # The person's calls carry their own token, never the App's.
    path = f"/user/installations/{INSTALLATION_ID}/repositories"
    assert [(line.split("?")[0], token) for line, token in fake_github.tokens_used] == [
        ("GET /login/oauth/authorize", None),
        ("POST /login/oauth/access_token", None),
        ("GET /user", "gho_alicetoken"),
        ("GET /user/installations", "gho_alicetoken"),
        (f"GET {path}", "gho_alicetoken"),
        (f"GET {path}", "gho_alicetoken"),
        ("POST /login/oauth/access_token", None),
        ("GET /user", "ghs_first"),
    ]


def test_the_fake_github_refuses_what_github_refuses(fake_github: FakeGitHub) -> None:
    fake_github.oauth(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, users={"alice": [REPO]})
    with github_over_http(fake_github) as api_url:
        authorize = f"{api_url.removesuffix('/api/v3')}/login/oauth/authorize"
        token_url = f"{api_url.removesuffix('/api/v3')}/login/oauth/access_token"
        query = {"client_id": CLIENT_ID, "redirect_uri": CALLBACK, "state": "st-2"}

        assert httpx.get(
            authorize, params=query | {"client_id": "Iv23liSomeoneElse"}
        ).is_client_error
        # Nobody signs in: the person clicked Cancel, and GitHub sends them back with an error.
        cancelled = httpx.get(authorize, params=query).headers["location"]
        assert cancelled.startswith(f"{CALLBACK}?error=access_denied&")
        assert cancelled.endswith("&state=st-2")

        exchange = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "code": "code-mallory"}
        bad_code = httpx.post(token_url, json=exchange, headers={"Accept": "application/json"})
        assert bad_code.status_code == 200
        assert bad_code.json()["error"] == "bad_verification_code"
        # Without Accept: application/json GitHub answers form-encoded.
        form = httpx.post(token_url, data=exchange | {"code": "code-alice"})
        assert form.text == "access_token=gho_alicetoken&token_type=bearer&scope="
