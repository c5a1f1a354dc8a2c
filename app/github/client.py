"""The githubkit client: App authentication, our token cache and a counting transport.

One ``GitHub`` per process, authenticated as the App (a JWT signed with the private key);
installation clients are derived from it per installation id and share its configuration.

Three githubkit defaults do not suit a worker and are replaced here:

- its token cache is process-global (``DEFAULT_CACHE_STRATEGY``): we pass a ``TokenCache`` per
  client, which also lets the gateway drop a revoked token and renews tokens a few minutes
  before they expire;
- its auto-retry sleeps inside the request (60 s for a rate limit): off, the gateway retries,
  and defers rate-limited jobs instead;
- its hishel HTTP cache stores whole replies: off, the gateway keeps ETags and parsed values.

Without ``async with github`` githubkit opens (and closes) an ``httpx.AsyncClient`` for every
request; ``PooledGitHub`` keeps one per client instead, and a shared transport keeps the
connection pool alive across them all.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from githubkit import GitHub
from githubkit.auth import AppAuthStrategy
from githubkit.cache import AsyncBaseCache, BaseCache, BaseCacheStrategy
from githubkit.exception import CacheUnsupportedError
from hishel import AsyncBaseStorage, SyncBaseStorage

from app.github.cache import TTLCache
from app.github.metrics import record_request, record_response
from app.settings import ConfigError, Settings

# Installation tokens live an hour; githubkit already keeps one minute in hand, we keep five.
TOKEN_RENEWAL_MARGIN = timedelta(minutes=4)
_INSTALLATION_KEY = re.compile(r":installation:(\d+):")

USER_AGENT = "hotfix-lane"
TIMEOUT = httpx.Timeout(10.0, connect=5.0)


class _NoCookies(httpx.Cookies):
    """A jar that keeps nothing: GitHub's REST API has no session, and a cookie one reply
    set must not ride along on the next request (of another installation, say). httpx reads
    every reply's headers into a jar through urllib's cookie machinery otherwise."""

    def extract_cookies(self, response: httpx.Response) -> None:
        return None


class PooledGitHub(GitHub[Any]):
    """githubkit's client with one ``httpx.AsyncClient`` kept for the client's life.

    githubkit builds a client per request outside ``async with``, and a context entered in
    one job's task is not seen by the others. Building one is a tenth of a millisecond
    (headers, base URL, proxies from the environment) on every request of an evaluation;
    the client carries this instance's auth flow, so each installation keeps its own. Closing
    it would close nothing of ours: ``CountingTransport`` outlives it.
    """

    _pooled: httpx.AsyncClient | None = None

    @asynccontextmanager
    async def get_async_client(self) -> AsyncIterator[httpx.AsyncClient]:
        if self._pooled is None:
            client = await self._create_async_client()
            # httpx's ``cookies`` setter copies into a plain jar; the attribute behind it
            # is the one way to keep ours (httpx is pinned below 0.29).
            client._cookies = _NoCookies()
            self._pooled = client
        yield self._pooled

    async def close_client(self) -> None:
        """Close the kept client: the transports of a proxy the environment names are its
        own (ours, ``CountingTransport``, is closed by its owner)."""
        client, self._pooled = self._pooled, None
        if client is not None:
            await client.aclose()

    def for_installation(self, installation_id: int) -> PooledGitHub:
        """A client authenticated as the installation, sharing this one's configuration."""
        if not isinstance(self.auth, AppAuthStrategy):
            raise TypeError("only the App's client has installations")
        return PooledGitHub(self.auth.as_installation(installation_id), config=self.config.copy())


class TokenCache(BaseCache, AsyncBaseCache):
    """githubkit's store for the App JWT and installation tokens, one per client."""

    def __init__(self, *, clock: Callable[[], datetime], max_entries: int = 1024) -> None:
        self._tokens: TTLCache[str, str] = TTLCache(max_entries=max_entries, ttl=None, clock=clock)

    def get(self, key: str) -> str | None:
        return self._tokens.get(key)

    def set(self, key: str, value: str, ex: timedelta) -> None:
        if _INSTALLATION_KEY.search(key):
            ex = max(ex - TOKEN_RENEWAL_MARGIN, timedelta())
        self._tokens.put(key, value, ttl=ex)

    async def aget(self, key: str) -> str | None:
        return self.get(key)

    async def aset(self, key: str, value: str, ex: timedelta) -> None:
        self.set(key, value, ex)

    def forget(self, installation_id: int | None) -> None:
        """Drop the JWT and, when given, the installation's token (after a 401)."""

        def doomed(key: str) -> bool:
            match = _INSTALLATION_KEY.search(key)
            if match is None:
                return key.endswith(":jwt")
            return installation_id is not None and int(match.group(1)) == installation_id

        self._tokens.drop_where(doomed)


class TokenCacheStrategy(BaseCacheStrategy):
    """Hands githubkit our ``TokenCache``; HTTP caching is the gateway's (ETags)."""

    def __init__(self, cache: TokenCache) -> None:
        self.cache = cache

    def get_cache_storage(self) -> BaseCache:
        return self.cache

    async def get_async_cache_storage(self) -> AsyncBaseCache:
        return self.cache

    def get_hishel_storage(self) -> SyncBaseStorage:
        raise CacheUnsupportedError("http_cache is off: the gateway revalidates with ETags")

    async def get_async_hishel_storage(self) -> AsyncBaseStorage:
        raise CacheUnsupportedError("http_cache is off: the gateway revalidates with ETags")


class CountingTransport(httpx.AsyncBaseTransport):
    """Counts every request (see ``metrics``) and outlives githubkit's per-request clients."""

    def __init__(self, inner: httpx.AsyncBaseTransport | None = None) -> None:
        self._inner = inner or httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        record_request(request.method, request.url.path)
        try:
            response = await self._inner.handle_async_request(request)
        except Exception:
            record_response(request.url.path, 0)
            raise
        record_response(request.url.path, response.status_code)
        return response

    async def aclose(self) -> None:
        """Ignored: githubkit closes its client, and so its transport, after each request."""

    async def close_pool(self) -> None:
        await self._inner.aclose()


def _app_credentials(settings: Settings) -> tuple[str, str]:
    """The App id and PEM key, checked now rather than at the first job."""
    pem = settings.github_private_key_pem
    if not settings.github_app_id or not pem:
        raise ConfigError(
            "HOTFIX_LANE_GITHUB_APP_ID and HOTFIX_LANE_GITHUB_PRIVATE_KEY "
            "(or HOTFIX_LANE_GITHUB_PRIVATE_KEY_PATH) must be set"
        )
    try:
        key = load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError) as exc:
        raise ConfigError("the GitHub App private key is not a readable PEM key") from exc
    if not isinstance(key, RSAPrivateKey):
        raise ConfigError("the GitHub App private key must be an RSA key (GitHub signs RS256)")
    return settings.github_app_id, pem


def build_github(
    settings: Settings, *, token_cache: TokenCache, transport: CountingTransport
) -> PooledGitHub:
    """The process's App client, talking to ``GITHUB_API_URL`` (GitHub.com, GHES, a fake)."""
    app_id, pem = _app_credentials(settings)
    return PooledGitHub(
        AppAuthStrategy(app_id, pem),
        base_url=settings.github_api_url,
        user_agent=USER_AGENT,
        timeout=TIMEOUT,
        async_transport=transport,
        cache_strategy=TokenCacheStrategy(token_cache),
        http_cache=False,
        auto_retry=False,
    )
