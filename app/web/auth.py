"""Who is looking: GitHub sign-in, the signed session cookie, and what that person may read.

With ``WEB_AUTH=github`` (the default) a person signs in through GitHub's OAuth web flow with
the App's own client id and secret. The ``state`` sent to GitHub is random, kept in the
signed session, and compared on the way back (CSRF), then dropped. The session cookie is
signed with ``SESSION_SECRET``, HttpOnly, SameSite=Lax and Secure when ``PUBLIC_URL`` is
https; it holds the login and the person's GitHub token, the token encrypted with a key
derived from the same secret (a signed cookie is readable by whoever holds it).

What a person sees is what they can read: the repositories of the App's installations that
GitHub lists for their token, asked at sign-in and again after ``ACCESS_TTL``, kept in this
process only. ``WEB_AUTH=none`` serves every page to anyone, for local use.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from cryptography.fernet import Fernet, InvalidToken
from fastapi import HTTPException, Request
from fastapi.responses import RedirectResponse

from app.github import oauth
from app.settings import Settings

log = logging.getLogger(__name__)

# How long the repositories a person can read are trusted before GitHub is asked again.
ACCESS_TTL = 300.0
_MAX_CACHED = 10_000
_LOGIN, _TOKEN, _STATE, _NEXT = "login", "token", "oauth_state", "next"


@dataclass(frozen=True)
class Viewer:
    """The person looking at a page; ``None`` readable means every repository (no sign-in)."""

    login: str | None
    readable: frozenset[str] | None

    def can_read(self, repo: str) -> bool:
        return self.readable is None or repo.lower() in self.readable


ANONYMOUS = Viewer(login=None, readable=None)


class Access:
    """Sign-in and the per-person repository cache for one app."""

    def __init__(self, settings: Settings, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings
        self._clock = clock
        self._readable: dict[str, tuple[float, frozenset[str]]] = {}
        secret = settings.session_secret.get_secret_value() if settings.session_secret else ""
        key = hashlib.sha256(b"hotfix-lane session token\0" + secret.encode()).digest()
        self._sealer = Fernet(base64.urlsafe_b64encode(key))

    def _seal(self, token: str) -> str:
        return self._sealer.encrypt(token.encode()).decode()

    def _unseal(self, sealed: object) -> str | None:
        if not isinstance(sealed, str):
            return None
        try:
            return self._sealer.decrypt(sealed.encode()).decode()
        except InvalidToken:
            return None

    @property
    def open(self) -> bool:
        return self.settings.web_auth == "none"

    def callback_url(self, request: Request) -> str:
        base = self.settings.public_url or str(request.base_url).rstrip("/")
        return f"{base}/login/callback"

    async def viewer(self, request: Request) -> Viewer:
        """The signed-in person, or a redirect to sign in (``HTTPException`` 307)."""
        if self.open:
            return ANONYMOUS
        login, token = request.session.get(_LOGIN), self._unseal(request.session.get(_TOKEN))
        if not isinstance(login, str) or token is None:
            raise _sign_in_first(request)
        try:
            readable = await self._repositories(login, token)
        except oauth.OAuthError as exc:
            log.info("web: %s must sign in again: %s", login, exc)
            request.session.clear()
            raise _sign_in_first(request) from None
        return Viewer(login=login, readable=readable)

    async def _repositories(self, login: str, token: str) -> frozenset[str]:
        now = self._clock()
        cached = self._readable.get(login)
        if cached is not None and now - cached[0] < ACCESS_TTL:
            return cached[1]
        readable = await oauth.readable_repositories(self.settings, token)
        if len(self._readable) >= _MAX_CACHED:
            self._readable.clear()
        self._readable[login] = (now, readable)
        return readable

    def login(self, request: Request, next_page: str | None) -> RedirectResponse:
        state = secrets.token_urlsafe(24)
        request.session[_STATE] = state
        request.session[_NEXT] = local_page(next_page)
        url = oauth.authorize_url(
            self.settings, redirect_uri=self.callback_url(request), state=state
        )
        return RedirectResponse(url, status_code=303)

    async def callback(self, request: Request, code: str | None, state: str | None) -> Any:
        expected = request.session.pop(_STATE, None)
        if not code or not state or not isinstance(expected, str):
            raise HTTPException(400, "Sign-in was not started here; start it again from /login")
        if not secrets.compare_digest(state, expected):
            log.warning("web: sign-in with a state that is not ours (CSRF?) refused")
            raise HTTPException(400, "Sign-in state does not match; start it again from /login")
        try:
            token = await oauth.exchange_code(
                self.settings, code=code, redirect_uri=self.callback_url(request)
            )
            login = await oauth.user_login(self.settings, token)
        except oauth.OAuthError as exc:
            log.info("web: sign-in failed: %s", exc)
            raise HTTPException(400, str(exc)) from None
        self._readable.pop(login, None)
        next_page = request.session.pop(_NEXT, "/")
        request.session[_LOGIN], request.session[_TOKEN] = login, self._seal(token)
        log.info("web: %s signed in", login)
        return RedirectResponse(local_page(next_page), status_code=303)


def _sign_in_first(request: Request) -> HTTPException:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return HTTPException(307, headers={"Location": f"/login?next={quote(target, safe='/')}"})


def local_page(page: object) -> str:
    """Only a path on this site: a ``next`` naming another host is an open redirect."""
    if not isinstance(page, str) or not page.startswith("/") or page.startswith("//"):
        return "/"
    parts = urlsplit(page)
    if parts.scheme or parts.netloc or "\\" in page:
        return "/"
    return page
