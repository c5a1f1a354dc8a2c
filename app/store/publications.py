"""What we last published per head sha (table ``Publication``), read and written here only.

The publisher writes it; the merge judgement reads our last status state for the merged head.
The publisher runs for every evaluation, so its two calls are plain statements on a
connection (no ORM unit of work): one read of both kinds, and one upsert per thing sent.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection, Row
from sqlmodel import Session

from app.store.models import Publication
from app.store.upsert import insert_or_update

STATUS = "status"
CHECK_RUN = "check_run"


def get_publication(
    *, session: Session, repo_full_name: str, head_sha: str, kind: str
) -> Publication | None:
    """The last ``kind`` (``status`` or ``check_run``) published for ``head_sha``, if any."""
    return session.get(
        Publication, {"repo_full_name": repo_full_name, "head_sha": head_sha, "kind": kind}
    )


# A row of ``Publication`` as read by ``published_for``: its columns as attributes.
PublicationRow = Row[Any]

_TABLE = Publication.__table__  # type: ignore[attr-defined]


def published_for(
    conn: Connection, *, repo_full_name: str, head_sha: str
) -> dict[str, PublicationRow]:
    """Both kinds last published for ``head_sha``, by kind (a kind never published is absent);
    each row has the ``Publication`` columns as attributes."""
    rows = conn.execute(_PUBLISHED_FOR, {"repo": repo_full_name, "head_sha": head_sha})
    return {row.kind: row for row in rows}


# Read for every evaluation: built once, values bound at each call.
_PUBLISHED_FOR = select(_TABLE).where(
    _TABLE.c.repo_full_name == bindparam("repo"), _TABLE.c.head_sha == bindparam("head_sha")
)


def remember_publication(
    conn: Connection,
    *,
    repo_full_name: str,
    head_sha: str,
    kind: str,
    fingerprint: str,
    state: str,
    description: str,
    check_run_id: int | None = None,
    now: datetime,
) -> None:
    """Insert or replace what was sent for ``kind``; the caller commits at once.

    The write to GitHub has already happened: if the job failed later and rolled this back,
    its retry would create a second check run for the same sha.
    """
    values = {
        "fingerprint": fingerprint,
        "state": state,
        "description": description,
        "check_run_id": check_run_id,
        "updated_at": now,
    }
    key = {"repo_full_name": repo_full_name, "head_sha": head_sha, "kind": kind}
    insert_or_update(conn, _TABLE, key, values)
