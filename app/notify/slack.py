"""Sending audit notices: the ``Notifier`` interface, the Slack sender and two stand-ins.

All Slack calls live here. The sender does one attempt and turns every
failure into what the job queue needs to decide what happens next:

* Slack says 429 (or ``ratelimited``)  -> ``Defer`` until Retry-After; no attempt spent.
* Slack is unreachable, slow or 5xx    -> ``SlackUnavailable``; retry with backoff.
* Slack refuses the message for good   -> ``SlackRejected`` (a ``PermanentError``): dead-letter
  it; the message says what an operator must fix, and the stored notice can be re-driven then.

slack-sdk has retry handlers of its own; we give the client none (``retry_handlers=[]``).
The default list retries once on a dropped connection, and the optional 429 handler sleeps
through Retry-After inside the call. Both happen behind the queue's back: a sleeping job holds
its lease and a worker slot, and repeating chat.postMessage after a connection dropped
mid-request can post the same notice twice without any record of why. The queue owns every
retry, so it owns the count, the backoff and the record of each attempt (a queue retry after
such a drop carries the same small risk of a duplicate, but visibly).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Protocol

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from app.clock import Clock
from app.notify.blocks import render
from app.notify.notices import Notice
from app.retry import Defer, PermanentError

log = logging.getLogger(__name__)

# Used when a 429 comes without a usable Retry-After (Slack always sends one; proxies may not).
_DEFAULT_RETRY_AFTER = 5.0

# Slack errors that say "not now" rather than "never" (HTTP 200 with ok=false is possible).
_TRANSIENT_ERRORS = frozenset(
    {"internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)

_BAD_TOKEN = "set HOTFIX_LANE_SLACK_BOT_TOKEN to a valid bot token (xoxb-...) of an active app"  # noqa: S105 - advice, not a secret

# Permanent errors an operator can fix, with what to do about each.
_REMEDIES: Mapping[str, str] = {
    "channel_not_found": (
        "the channel does not exist or the bot cannot see it: check HOTFIX_LANE_AUDIT_CHANNEL, "
        "and invite the bot if the channel is private"
    ),
    "not_in_channel": "invite the bot to the channel (/invite @<bot name>)",
    "is_archived": "the channel is archived: unarchive it or point HOTFIX_LANE_AUDIT_CHANNEL "
    "elsewhere",
    "missing_scope": "add the chat:write scope to the Slack app and reinstall it",
    "invalid_auth": _BAD_TOKEN,
    "not_authed": _BAD_TOKEN,
    "account_inactive": _BAD_TOKEN,
    "token_revoked": _BAD_TOKEN,
    "token_expired": _BAD_TOKEN,
}


class SlackUnavailable(Exception):
    """Slack could not be reached or failed on its side (5xx, timeout): retry with backoff.

    The message may have been posted if the connection dropped after Slack received it;
    chat.postMessage has no idempotency key, so a retry can in that rare case post twice.
    """

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class SlackRejected(PermanentError):
    """Slack refused the notice and will refuse it again until someone changes the setup."""

    def __init__(self, message: str, *, error: str) -> None:
        super().__init__(message)
        self.error = error


class Notifier(Protocol):
    """Where audit notices go. The outbox worker calls ``send`` once per delivery attempt."""

    async def send(
        self,
        channel: str,
        notice: Notice,
        *,
        thread_ts: str | None = None,
        reply_broadcast: bool = False,
    ) -> str | None:
        """Post ``notice`` to ``channel``, as a reply in the thread of the message ``thread_ts``
        if given (also shown in the channel with ``reply_broadcast``); return the Slack
        message ts, or None if not posted."""
        ...


class ChannelBusy(Exception):
    """The channel's next free slot is further away than the pacer is willing to wait."""

    def __init__(self, channel: str, delay: float) -> None:
        super().__init__(f"{channel} is paced for another {delay:.1f} s")
        self.channel = channel
        self.delay = delay


class ChannelPacer:
    """Keeps posts to one channel at least ``interval`` seconds apart (Slack: ~1/s/channel).

    Each caller books the next free slot before it sleeps, so concurrent sends to a channel
    line up one interval apart without a lock (no await between reading and booking). A wait
    longer than ``max_wait`` raises ``ChannelBusy`` without booking, so a worker slot is not
    held asleep; the notifier turns that into ``Defer``. Pacing is per process: with several
    workers Slack's own 429 still catches the rest.
    """

    def __init__(
        self,
        interval: float = 1.0,
        *,
        max_wait: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        self.interval = interval
        self.max_wait = max_wait
        self._clock = clock
        self._sleep = sleep
        self._next_free: dict[str, float] = {}

    async def wait(self, channel: str) -> None:
        """Return when ``channel`` may take the next post; raise ``ChannelBusy`` if too far."""
        now = self._clock()
        slot = max(now, self._next_free.get(channel, now))
        delay = slot - now
        if delay > self.max_wait:
            raise ChannelBusy(channel, delay)
        self._next_free[channel] = slot + self.interval
        if delay > 0:
            await self._sleep(delay)

    def hold(self, channel: str, seconds: float) -> None:
        """Keep ``channel`` closed for ``seconds`` (Slack's Retry-After applies to all posts)."""
        until = self._clock() + seconds
        self._next_free[channel] = max(self._next_free.get(channel, until), until)


_SYSTEM = Clock()


class SlackNotifier:
    """Posts notices with chat.postMessage: one attempt per call, failures classified."""

    def __init__(
        self,
        token: str,
        base_url: str,
        *,
        pacer: ChannelPacer | None = None,
        clock: Callable[[], datetime] = _SYSTEM.now,
        timeout: int = 10,
    ) -> None:
        # The timeout stays far below the job lease (120 s), so a hung Slack cannot outlive it.
        self._client = AsyncWebClient(
            token=token, base_url=base_url, timeout=timeout, retry_handlers=[]
        )
        self._base_url = base_url
        self._pacer = pacer or ChannelPacer()
        self._clock = clock

    def __repr__(self) -> str:
        # Never the token: this object ends up in logs and tracebacks.
        return f"SlackNotifier(base_url={self._base_url!r})"

    async def send(
        self,
        channel: str,
        notice: Notice,
        *,
        thread_ts: str | None = None,
        reply_broadcast: bool = False,
    ) -> str | None:
        """Post ``notice`` (in the thread ``thread_ts`` if given); return its ts, or raise
        ``Defer`` / ``SlackUnavailable`` / ``SlackRejected`` (see the module docstring for
        what the queue does with each)."""
        try:
            await self._pacer.wait(channel)
        except ChannelBusy as busy:
            raise self._defer(busy.delay, f"pacing posts to {channel}") from None
        payload = render(notice)
        try:
            response = await self._client.chat_postMessage(
                channel=channel,
                text=payload["text"],
                blocks=payload["blocks"],
                unfurl_links=False,
                # slack-sdk leaves out None arguments, so a top-level post carries neither.
                thread_ts=thread_ts,
                reply_broadcast=True if thread_ts is not None and reply_broadcast else None,
            )
        except SlackApiError as exc:
            raise self._classify(exc, channel, notice) from exc
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise SlackUnavailable(
                f"Slack unreachable posting {notice.idempotency_key} to {channel}: "
                f"{type(exc).__name__}"
            ) from exc
        ts = response.get("ts")
        log.info(
            "slack notice posted kind=%s key=%s channel=%s ts=%s thread_ts=%s",
            notice.kind,
            notice.idempotency_key,
            channel,
            ts,
            thread_ts,
        )
        return str(ts) if ts is not None else None

    def _classify(self, exc: SlackApiError, channel: str, notice: Notice) -> Exception:
        """Map a failed call to Defer, SlackUnavailable or SlackRejected."""
        response = exc.response
        # An unparseable body leaves slack-sdk holding aiohttp's response (``status``), not its
        # own (``status_code``).
        status = getattr(response, "status_code", None) or getattr(response, "status", None)
        data = getattr(response, "data", None)
        error = str(data.get("error") or "") if isinstance(data, dict) else ""
        what = f"posting {notice.idempotency_key} to {channel}"
        if status == 429 or error == "ratelimited":
            seconds = _retry_after(getattr(response, "headers", None), now=self._clock())
            self._pacer.hold(channel, seconds)
            return self._defer(seconds, f"Slack rate limit {what}")
        if status is None or status >= 500 or status == 408 or error in _TRANSIENT_ERRORS:
            return SlackUnavailable(
                f"Slack failed {what}: HTTP {status} {error}".rstrip(), status=status
            )
        if error:
            remedy = _REMEDIES.get(error, "the message or the app's setup needs fixing")
            return SlackRejected(f"Slack rejected {what} with {error}: {remedy}", error=error)
        return SlackRejected(
            f"Slack answered HTTP {status} {what}: check HOTFIX_LANE_SLACK_API_URL",
            error=f"http_{status}",
        )

    def _defer(self, seconds: float, reason: str) -> Defer:
        until = self._clock() + timedelta(seconds=seconds)
        return Defer(until, f"{reason}; retry in {seconds:g} s")


def _retry_after(headers: Mapping[str, str] | None, *, now: datetime) -> float:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date."""
    value = (headers or {}).get("Retry-After", "").strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(value) - now).total_seconds())
    except (TypeError, ValueError):
        return _DEFAULT_RETRY_AFTER
