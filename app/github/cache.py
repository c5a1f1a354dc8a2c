"""In-memory, bounded caches the gateway keeps to spend fewer GitHub requests.

- ``TTLCache``: least-recently-used entries with an optional lifetime, on an injected clock.
  Team memberships (``membership_cache_seconds``) and policy files (``policy_cache_seconds``)
  live in one each.
- ``ETagEntry``: what a conditional read remembers. A ``304 Not Modified`` costs nothing against
  the rate limit, so every repeated GET is sent with ``If-None-Match``; we keep the parsed value
  (never the raw reply: a files page carries every patch) and the ``next`` page link.

All of it is per process and lost on restart, which only costs a few reads.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class TTLCache(Generic[K, V]):
    """A bounded LRU map whose entries expire ``ttl`` after they were put (never if ``None``).

    Values are never ``None`` by convention, so ``get`` can answer ``None`` for a miss.
    """

    def __init__(
        self,
        *,
        max_entries: int,
        ttl: timedelta | None,
        clock: Callable[[], datetime],
    ) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self._entries: OrderedDict[K, tuple[datetime | None, V]] = OrderedDict()
        self._max_entries = max_entries
        self._ttl = ttl
        self._clock = clock

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: K) -> V | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires_at, value = entry
        if expires_at is not None and expires_at <= self._clock():
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return value

    def put(self, key: K, value: V, *, ttl: timedelta | None = None) -> None:
        """Store ``value``; ``ttl`` overrides the cache's lifetime for this entry."""
        lifetime = ttl if ttl is not None else self._ttl
        expires_at = self._clock() + lifetime if lifetime is not None else None
        self._entries[key] = (expires_at, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)

    def values(self) -> list[V]:
        """Every value held, expired or not (for closing what they hold)."""
        return [value for _, value in self._entries.values()]

    def pop(self, key: K) -> None:
        self._entries.pop(key, None)

    def drop_where(self, predicate: Callable[[K], bool]) -> int:
        """Forget every entry whose key matches; return how many went."""
        doomed = [key for key in self._entries if predicate(key)]
        for key in doomed:
            del self._entries[key]
        return len(doomed)

    def clear(self) -> None:
        self._entries.clear()


@dataclass(frozen=True)
class ETagEntry:
    """A validator and what the reply it came with meant to us."""

    etag: str
    value: Any
    next_url: str | None = None
