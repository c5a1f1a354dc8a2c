"""What to do when a GitHub request fails: retry, renew the token, wait, or give up.

GitHub's rules (docs.github.com, "Rate limits for the REST API"):

- a secondary limit answers 403 or 429 with ``Retry-After`` (seconds): wait that long;
- an exhausted primary limit answers 403 or 429 with ``x-ratelimit-remaining: 0``: wait until
  ``x-ratelimit-reset`` (epoch seconds);
- a 403/429 that says "secondary rate limit" without either header: wait at least a minute.

Waiting inside a worker would hold a slot and, for secondary limits, retrying early makes the
limit last longer; so we raise ``Defer`` and the queue runs the job again when GitHub is ready.
5xx replies, timeouts and connection errors are worth a quick retry; a 401 means the cached
installation token expired or was revoked, and is worth exactly one renewal.

githubkit raises its own exceptions (and wraps failures of the token exchange, which happens
inside httpx's auth flow, in a ``RequestError``); ``classify`` reads them all.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import Enum

import httpx
from githubkit.exception import RequestError, RequestFailed, RequestTimeout

from app.github.errors import AppNotInstalled, GitHubNotFound, GitHubRejected, GitHubUnavailable
from app.retry import Defer

# Waiting at least this long is GitHub's advice when it gives no time.
MIN_WAIT = timedelta(seconds=60)
# The reset time is whole seconds; a second more avoids a request one instant too early.
RESET_SLACK = timedelta(seconds=1)


class Action(Enum):
    RETRY = "retry"
    RENEW = "renew"
    DEFER = "defer"
    NOT_FOUND = "not_found"
    NOT_INSTALLED = "not_installed"
    REJECT = "reject"


@dataclass(frozen=True)
class Failure:
    action: Action
    reason: str
    status_code: int | None = None
    until: datetime | None = None

    def to_exception(self) -> Exception:
        """What the job sees once the gateway stops trying."""
        status = self.status_code or 0
        if self.action is Action.DEFER and self.until is not None:
            return Defer(self.until, self.reason)
        if self.action is Action.RETRY:
            return GitHubUnavailable(self.reason)
        if self.action is Action.NOT_FOUND:
            return GitHubNotFound(self.reason, status_code=status)
        if self.action is Action.NOT_INSTALLED:
            return AppNotInstalled(self.reason, status_code=status)
        return GitHubRejected(self.reason, status_code=status)


def _message(response: httpx.Response) -> str:
    """GitHub's own error message (never our request body)."""
    with contextlib.suppress(ValueError):
        body = response.json()
        if isinstance(body, dict) and isinstance(body.get("message"), str):
            return str(body["message"])
    return response.reason_phrase


def wait_until(response: httpx.Response, now: datetime) -> datetime | None:
    """When GitHub lets us try again, if ``response`` is a rate-limit refusal."""
    if response.status_code not in (403, 429):
        return None
    headers = response.headers
    retry_after = headers.get("retry-after")
    if retry_after is not None:
        try:
            return now + timedelta(seconds=max(int(retry_after), 0))
        except ValueError:
            return now + MIN_WAIT
    if headers.get("x-ratelimit-remaining") == "0":
        try:
            reset = datetime.fromtimestamp(int(headers["x-ratelimit-reset"]), tz=UTC)
        except (KeyError, ValueError):
            return now + MIN_WAIT
        return max(reset, now) + RESET_SLACK
    if response.status_code == 429 or "secondary rate limit" in _message(response).lower():
        return now + MIN_WAIT
    return None


def _is_token_exchange(request: httpx.Request) -> bool:
    return request.url.path.endswith("/access_tokens")


def _classify_response(response: httpx.Response, now: datetime) -> Failure:
    status = response.status_code
    route = f"{response.request.method} {response.request.url.path}"
    until = wait_until(response, now)
    if until is not None:
        return Failure(Action.DEFER, f"GitHub rate limit on {route}", status, until)
    message = f"{route} answered {status}: {_message(response)}"
    if status >= 500:
        return Failure(Action.RETRY, message, status)
    if status == 401:
        return Failure(Action.RENEW, message, status)
    if _is_token_exchange(response.request) and status in (403, 404):
        # 404: the installation is gone; 403: it is suspended.
        return Failure(Action.NOT_INSTALLED, message, status)
    if status in (404, 410):
        return Failure(Action.NOT_FOUND, message, status)
    return Failure(Action.REJECT, message, status)


def classify(exc: BaseException, now: datetime) -> Failure | None:
    """What a failed request calls for; ``None`` if ``exc`` is not a request failure."""
    if isinstance(exc, RequestFailed):
        return _classify_response(exc.response.raw_response, now)
    if isinstance(exc, RequestTimeout):
        return Failure(Action.RETRY, f"timeout: {exc.request.method} {exc.request.url.path}")
    if isinstance(exc, RequestError):
        inner = exc.exc
        if isinstance(inner, RequestError):
            return classify(inner, now)
        if isinstance(inner, httpx.TransportError):
            return Failure(Action.RETRY, f"connection error: {type(inner).__name__}")
    return None
