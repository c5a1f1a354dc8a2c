"""The HTTP core under every gateway read and write: clients, retries, ETags, pages.

Every request goes through ``GitHubHttp.send``, which retries 5xx replies, timeouts and
connection errors, renews a rejected installation token once, and turns rate limits into
``Defer`` (see ``ratelimit``). What cannot be answered raises (see ``errors``): the job fails
and the queue retries it, so no evaluation is lost or turned green.

Every GET is conditional (``If-None-Match``): a 304 costs nothing against the rate limit, and
the ETag cache holds what the last reply was parsed into (see ``cache``).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar, cast

import httpx
from githubkit import GitHub, Response
from githubkit.exception import GitHubException
from pydantic import BaseModel, ValidationError

from app.github.cache import ETagEntry, TTLCache
from app.github.client import CountingTransport, PooledGitHub, TokenCache, build_github
from app.github.errors import GitHubUnavailable
from app.github.metrics import record_rate_limit
from app.github.ratelimit import Action, classify
from app.github.responses import Created
from app.settings import Settings

logger = logging.getLogger(__name__)

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

# GitHub.com and every GHES with API versions know 2022-11-28 (and default to it); githubkit's
# typed methods would send 2026-03-10, which older GHES releases refuse.
API_HEADERS: Mapping[str, str] = {"X-GitHub-Api-Version": "2022-11-28"}
PER_PAGE = 100
# Default pause before the 2nd and 3rd try of a request that failed transiently.
RETRY_DELAYS: tuple[float, ...] = (0.5, 2.0)

Sleep = Callable[[float], Awaitable[None]]
Call = Callable[[GitHub[Any]], Awaitable[Response[Any]]]


def split_repo(repo_full_name: str) -> tuple[str, str]:
    """``owner/name`` as ``(owner, name)``."""
    owner, _, name = repo_full_name.partition("/")
    if not owner or not name:
        raise ValueError(f"not an owner/name repository: {repo_full_name!r}")
    return owner, name


class GitHubHttp:
    """The App's githubkit client, its installation clients and the ETag cache.

    ``clock`` drives the caches and ``Defer`` times; ``sleep`` and ``retry_delays`` the pause
    between tries; ``transport`` replaces the HTTP transport under the counting wrapper.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Callable[[], datetime],
        sleep: Sleep,
        retry_delays: Sequence[float],
        transport: httpx.AsyncBaseTransport | None,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self._sleep = sleep
        self._retry_delays = tuple(retry_delays)
        self._transport = CountingTransport(transport)
        self._tokens = TokenCache(clock=clock)
        self._app = build_github(settings, token_cache=self._tokens, transport=self._transport)
        self._base_url = str(self._app.config.base_url).rstrip("/")
        self._installations: TTLCache[int, PooledGitHub] = TTLCache(
            max_entries=512, ttl=None, clock=clock
        )
        self._etags: TTLCache[tuple[int | None, str], ETagEntry] = TTLCache(
            max_entries=4096, ttl=None, clock=clock
        )

    async def aclose(self) -> None:
        for client in (self._app, *self._installations.values()):
            try:
                await client.close_client()
            except Exception:  # one client failing to close must not keep the rest open
                logger.warning("a GitHub client did not close cleanly", exc_info=True)
        await self._transport.close_pool()

    def forget_installation(self, installation_id: int) -> None:
        """Drop the token and conditional-read entries of an installation.

        Its client stays: it holds no credential of its own (its auth flow reads the token
        cache on every request), only connections.
        """
        self._tokens.forget(installation_id)
        self._etags.drop_where(lambda key: key[0] == installation_id)

    def _client(self, installation_id: int | None) -> PooledGitHub:
        """The App client (JWT) for ``None``, else the installation's (installation token)."""
        if installation_id is None:
            return self._app
        client = self._installations.get(installation_id)
        if client is None:
            client = self._app.for_installation(installation_id)
            self._installations.put(installation_id, client)
        return client

    def url(self, path_or_url: str) -> httpx.URL:
        """An API path (``repos/...``, under the API URL) or a page link GitHub sent, as one
        absolute URL, parsed once.

        httpx would parse a relative string three times on its way (the string, the join
        with the base URL, the request's copy); an absolute ``URL`` passes through as it is.
        """
        if path_or_url.startswith(("https://", "http://")):
            return httpx.URL(path_or_url)
        return httpx.URL(f"{self._base_url}/{path_or_url.lstrip('/')}")

    async def send(
        self, installation_id: int | None, call: Call, *, creates: bool = False
    ) -> httpx.Response:
        """Run ``call`` with retries, one token renewal, and rate limits raised as ``Defer``.

        A request that ``creates`` something (an issue, a comment, a check run) is not tried
        again after a 5xx or a timeout: GitHub may have created it before failing to answer,
        and a second try would make a second one. The job fails instead, and its retry looks
        for what the first try made (an issue of ours with that title, a marked comment, our
        check run on the head) before creating anything.
        """
        tries = 0
        renewed = False
        while True:
            try:
                response = await call(self._client(installation_id))
            except GitHubException as exc:
                failure = classify(exc, self.clock())
                if failure is None:
                    raise
                retry = failure.action is Action.RETRY and not creates
                if retry and tries < len(self._retry_delays):
                    delay = self._retry_delays[tries]
                    tries += 1
                    logger.warning("%s; try %d in %.1fs", failure.reason, tries + 1, delay)
                    await self._sleep(delay)
                    continue
                if failure.action is Action.RENEW and not renewed:
                    renewed = True
                    logger.warning("%s; renewing the installation token", failure.reason)
                    self._tokens.forget(installation_id)
                    continue
                raise failure.to_exception() from exc
            raw = response.raw_response
            record_rate_limit(installation_id, raw.headers.get("x-ratelimit-remaining"))
            return raw

    async def get(
        self, installation_id: int | None, url: str, parse: Callable[[Any], T]
    ) -> tuple[T, str | None]:
        """A conditional GET: the parsed reply and the ``next`` page link.

        A 304 answers from the ETag cache, which holds what ``parse`` made of the last reply.
        """
        key = (installation_id, url)
        cached = self._etags.get(key)
        headers = dict(API_HEADERS)
        if cached is not None:
            headers["If-None-Match"] = cached.etag

        absolute = self.url(url)
        response = await self.send(
            installation_id, lambda gh: gh.arequest("GET", absolute, headers=headers)
        )
        if response.status_code == 304 and cached is not None:
            return cast(T, cached.value), cached.next_url
        try:
            value = parse(response.json())
        except (ValueError, ValidationError) as exc:
            raise GitHubUnavailable(
                f"GET {response.request.url.path}: reply not shaped as expected"
            ) from exc
        next_url = response.links.get("next", {}).get("url")
        if etag := response.headers.get("etag"):
            self._etags.put(key, ETagEntry(etag, value, next_url))
        return value, next_url

    async def get_all(
        self, installation_id: int, url: str, parse: Callable[[Any], list[T]]
    ) -> list[T]:
        """Every page, following the ``Link: rel="next"`` header GitHub sends."""
        items: list[T] = []
        next_url: str | None = url
        while next_url is not None:
            page, next_url = await self.get(installation_id, next_url, parse)
            items.extend(page)
        return items

    async def get_one(self, installation_id: int | None, url: str, model: type[M]) -> M:
        value, _ = await self.get(installation_id, url, model.model_validate)
        return value

    async def write(
        self, installation_id: int, call: Call, *, creates: bool = False
    ) -> Created | None:
        """Send a write; the id of what it created, when the reply names one."""
        response = await self.send(installation_id, call, creates=creates)
        try:
            return Created.model_validate(response.json())
        except (ValueError, ValidationError):
            return None
