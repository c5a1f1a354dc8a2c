"""Signing people in to the web view: GitHub's OAuth web flow with the App's own credentials,
and what the person may read, asked with their own token.

These calls use a person's token, never the App's installation token: what a page shows is
what that person can read on GitHub. They are a handful per sign-in (the code exchange, the
login, the installations' repositories), so they go through a short-lived httpx client of
their own rather than the App's gateway with its installation caches.
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode

import httpx

from app.settings import Settings

log = logging.getLogger(__name__)

TIMEOUT = httpx.Timeout(10.0)
# A person in thousands of repositories is listed up to this many (then the rest are not
# shown: pages fail closed, never open).
MAX_REPOSITORIES = 5000
_PER_PAGE = 100


class OAuthError(Exception):
    """Sign-in failed; the message is safe to show the person (no token, no secret)."""


def web_url(settings: Settings) -> str:
    """GitHub's web address for the API in use: github.com, or an Enterprise Server's host
    (its API lives under ``/api/v3``)."""
    api = settings.github_api_url.rstrip("/")
    if api == "https://api.github.com":
        return "https://github.com"
    return api.removesuffix("/api/v3")


def authorize_url(settings: Settings, *, redirect_uri: str, state: str) -> str:
    """Where the browser goes to sign in; GitHub sends it back to ``redirect_uri``."""
    query = urlencode(
        {
            "client_id": settings.github_client_id or "",
            "redirect_uri": redirect_uri,
            "state": state,
            "allow_signup": "false",
        }
    )
    return f"{web_url(settings)}/login/oauth/authorize?{query}"


async def exchange_code(
    settings: Settings,
    *,
    code: str,
    redirect_uri: str,
    transport: httpx.AsyncBaseTransport | None = None,
) -> str:
    """The person's access token for the ``code`` GitHub handed back."""
    secret = settings.github_client_secret
    async with httpx.AsyncClient(timeout=TIMEOUT, transport=transport) as client:
        try:
            response = await client.post(
                f"{web_url(settings)}/login/oauth/access_token",
                data={
                    "client_id": settings.github_client_id or "",
                    "client_secret": secret.get_secret_value() if secret else "",
                    "code": code,
                    "redirect_uri": redirect_uri,
                },
                headers={"Accept": "application/json"},
            )
        except httpx.HTTPError as exc:
            raise OAuthError(
                f"GitHub could not be reached to sign in ({type(exc).__name__})"
            ) from None
    try:
        body = response.json()
    except ValueError:
        body = {}
    token = body.get("access_token") if isinstance(body, dict) else None
    if response.status_code != 200 or not isinstance(token, str) or not token:
        reason = body.get("error_description") if isinstance(body, dict) else None
        raise OAuthError(f"GitHub refused the sign-in: {reason or response.status_code}")
    return token


async def user_login(
    settings: Settings, token: str, *, transport: httpx.AsyncBaseTransport | None = None
) -> str:
    """The login the token belongs to."""
    async with _client(settings, token, transport) as client:
        body = await _get(client, "/user")
    login = body.get("login") if isinstance(body, dict) else None
    if not isinstance(login, str):
        raise OAuthError("GitHub did not say who signed in")
    return login


async def readable_repositories(
    settings: Settings, token: str, *, transport: httpx.AsyncBaseTransport | None = None
) -> frozenset[str]:
    """The repositories (``owner/name``, lower-cased) of the App's installations the person
    can read: GitHub lists them per installation for a user token."""
    names: set[str] = set()
    async with _client(settings, token, transport) as client:
        installations = await _get(client, f"/user/installations?per_page={_PER_PAGE}")
        for installation in _items(installations, "installations"):
            installation_id = installation.get("id")
            if not isinstance(installation_id, int):
                continue
            page = 1
            while len(names) < MAX_REPOSITORIES:
                path = (
                    f"/user/installations/{installation_id}/repositories"
                    f"?per_page={_PER_PAGE}&page={page}"
                )
                listed = _items(await _get(client, path), "repositories")
                names.update(
                    str(repo["full_name"]).lower() for repo in listed if "full_name" in repo
                )
                if len(listed) < _PER_PAGE:
                    break
                page += 1
    return frozenset(names)


def _client(
    settings: Settings, token: str, transport: httpx.AsyncBaseTransport | None
) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=settings.github_api_url.rstrip("/"),
        timeout=TIMEOUT,
        transport=transport,
        headers={
            "Authorization": f"Bearer {token}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
        },
    )


async def _get(client: httpx.AsyncClient, path: str) -> object:
    try:
        response = await client.get(path)
    except httpx.HTTPError as exc:
        raise OAuthError(f"GitHub could not be reached ({type(exc).__name__})") from None
    if response.status_code == 401:
        raise OAuthError("GitHub no longer accepts this sign-in; sign in again")
    if response.status_code != 200:
        raise OAuthError(f"GitHub answered {response.status_code} to {path.split('?')[0]}")
    try:
        return response.json()
    except ValueError:
        raise OAuthError(f"GitHub's answer to {path.split('?')[0]} is not JSON") from None


def _items(body: object, key: str) -> list[dict[str, object]]:
    items = body.get(key) if isinstance(body, dict) else None
    return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []
