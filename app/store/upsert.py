"""Insert-or-ignore and insert-or-update, on SQLite and PostgreSQL alike.

Idempotency lives in unique keys: a redelivered webhook, a retried job or two workers racing
insert the same row, and the second insert must be a no-op rather than an error. Both
dialects spell that ``INSERT ... ON CONFLICT DO NOTHING`` (or ``DO UPDATE``), each with its
own construct.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection


def _insert(conn: Connection, table: Any) -> Any:
    """The dialect's INSERT, the one that knows ``ON CONFLICT``."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


def insert_or_update(
    conn: Connection, table: Any, key: Mapping[str, Any], values: Mapping[str, Any]
) -> None:
    """Insert the row ``key`` + ``values``, or set ``values`` on the row the unique ``key``
    columns already name."""
    statement = _upsert(conn.dialect.name, table, tuple(key), tuple(values))
    conn.execute(statement, {**key, **values})


@functools.lru_cache(maxsize=64)
def _upsert(dialect: str, table: Any, key: tuple[str, ...], columns: tuple[str, ...]) -> Any:
    """The upsert of ``columns`` by ``key``, built once: the publisher runs one for every
    evaluation. The values are bound at each call; the update takes the inserted row's."""
    insert = (postgresql if dialect == "postgresql" else sqlite).insert(table)
    return insert.on_conflict_do_update(
        index_elements=list(key), set_={column: insert.excluded[column] for column in columns}
    )


def insert_ignoring_conflict(
    conn: Connection,
    table: Any,
    values: Mapping[str, Any] | Sequence[Mapping[str, Any]],
    *,
    unique: Sequence[str],
    returning: Any = None,
) -> list[Any]:
    """Insert ``values`` (one row or many) into ``table``, skipping rows that would break the
    unique index on ``unique``; the ``returning`` column of each row inserted, in order."""
    statement = _insert(conn, table).on_conflict_do_nothing(index_elements=list(unique))
    if isinstance(values, Mapping):
        statement = statement.values(**values)
        params = None
    else:
        if not values:
            return []
        params = [dict(row) for row in values]
    if returning is None:
        conn.execute(statement, params)
        return []
    return [row[0] for row in conn.execute(statement.returning(returning), params)]
