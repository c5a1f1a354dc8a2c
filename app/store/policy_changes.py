"""Which repositories' policy files changed, and when: one row per repository.

The process that handles a push drops its own cached policy at once; every other process
(replicas, workers) reads this table before its next policy lookup and drops the same. Times
are the database's own clock, never a process's, so hosts whose clocks disagree still agree on
what is new; readers look back ``LAG_SECONDS`` for changes committed late.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, col, select

from app.store.models import PolicyChange
from app.store.upsert import insert_ignoring_conflict

# A change committed this long after its time (a slow transaction) is still seen.
LAG_SECONDS = 120.0


def _now(conn: Connection) -> float:
    """The database's time, in epoch seconds."""
    if conn.dialect.name == "postgresql":
        query = "SELECT EXTRACT(EPOCH FROM clock_timestamp())"
    else:
        query = "SELECT (julianday('now') - 2440587.5) * 86400.0"
    return float(conn.execute(text(query)).scalar_one())


def record(engine: Engine, *, repo_full_name: str) -> None:
    """Note that ``repo_full_name``'s policy file changed now."""
    key = repo_full_name.lower()
    with Session(engine) as session:
        at = _now(session.connection())
        inserted = insert_ignoring_conflict(
            session.connection(),
            PolicyChange,
            {"repo_full_name": key, "changed_at": at},
            unique=["repo_full_name"],
            returning=col(PolicyChange.repo_full_name),
        )
        if not inserted:
            row = session.get(PolicyChange, key)
            if row is not None:
                row.changed_at = max(row.changed_at, at)
                session.add(row)
        session.commit()


class ChangeReader:
    """What changed since this reader last looked (each change reported once)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._seen: dict[str, float] = {}
        self._started = False

    def __call__(self) -> list[str]:
        """The repositories whose policy changed since the last call (none the first time:
        a process that just started has nothing cached)."""
        with Session(self.engine) as session:
            since = max(self._seen.values(), default=0.0) - LAG_SECONDS
            rows = session.exec(
                select(col(PolicyChange.repo_full_name), col(PolicyChange.changed_at)).where(
                    col(PolicyChange.changed_at) > since
                )
            ).all()
        changed = [repo for repo, at in rows if self._started and self._seen.get(repo, -1.0) < at]
        for repo, at in rows:
            self._seen[repo] = max(self._seen.get(repo, 0.0), float(at))
        self._started = True
        return changed
