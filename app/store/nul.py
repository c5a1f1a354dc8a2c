"""Text without NUL characters on PostgreSQL, whatever the webhook or the worker wrote.

PostgreSQL's text types cannot hold a NUL (``\\x00``); psycopg refuses such a parameter with
``DataError`` ("text fields cannot contain NUL"), so a signed delivery whose event, action or
repository carried ``\\u0000`` was answered 503 and a title or login with one failed its job
for good. The character means nothing in any field we store, so every string parameter is
sent without it: the dumpers below replace psycopg's own for ``str`` on each connection.
SQLite stores NUL as it is and needs none of this; raw delivery bodies are bytes, untouched.
"""

from __future__ import annotations

from typing import Any

from psycopg.abc import Buffer
from psycopg.adapt import AdaptersMap
from psycopg.types import string

_NUL = "\x00"


def _clean(obj: str) -> str:
    return obj.replace(_NUL, "") if _NUL in obj else obj


def _without_nul(base: type[Any]) -> type[Any]:
    """``base``, a psycopg str dumper, dumping its string without NUL characters."""

    class Dumper(base):  # type: ignore[misc]
        def dump(self, obj: str) -> Buffer | None:
            dumped: Buffer | None = super().dump(_clean(obj))
            return dumped

    Dumper.__name__ = Dumper.__qualname__ = f"{base.__name__}WithoutNul"
    return Dumper


# psycopg's own registration order: the last one registered is the default for ``str``.
_DUMPERS = tuple(
    _without_nul(base)
    for base in (
        string.StrBinaryDumperName,
        string.StrBinaryDumperVarchar,
        string.StrBinaryDumper,
        string.StrDumperName,
        string.StrDumperVarchar,
        string.StrDumper,
        string.StrDumperUnknown,
    )
)


def strip_nul(adapters: AdaptersMap) -> None:
    """Make a connection (its ``adapters``) send every string without NUL characters."""
    for dumper in _DUMPERS:
        adapters.register_dumper(str, dumper)
