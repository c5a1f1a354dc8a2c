"""Engine creation for SQLite (the embedded default) and PostgreSQL (production)."""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import ConnectionPoolEntry, StaticPool
from sqlmodel import Session, create_engine

from app.settings import ConfigError
from app.store.nul import strip_nul

log = logging.getLogger(__name__)

WAL_SIZE_LIMIT = 64 * 1024 * 1024
# The execution option that marks a unit of work as reads only (see ``read_only``).
READ_ONLY = "hotfix_lane_read_only"


def normalise_url(url: str) -> str:
    """Map ``postgresql://`` and ``postgres://`` to the psycopg 3 driver we ship."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def make_engine(url: str, *, background_checkpoint: bool = False) -> Engine:
    """Create an engine tuned for a small write-heavy service.

    SQLite runs in WAL mode so readers never block the writer, with a busy timeout so the
    intake writer and the worker wait for each other instead of failing. A SQLite
    transaction starts with ``BEGIN IMMEDIATE`` (it takes the write lock at once): a
    deferred transaction that reads and then writes can deadlock against another writer, and
    busy_timeout does not help there. Only units marked ``read_only`` begin deferred: they
    read a WAL snapshot without waiting for the writer, and ``PRAGMA query_only`` makes a
    write in them fail at once instead of risking that deadlock.

    With ``background_checkpoint`` no commit copies the WAL back into the database file (an
    fsync that would stall webhook intake); the caller runs a ``Checkpointer`` instead.
    """
    url = normalise_url(url)
    if not url.startswith("sqlite"):
        engine = create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)

        @event.listens_for(engine, "connect")
        def _no_nul(dbapi_conn: Any, _record: object) -> None:
            strip_nul(dbapi_conn.adapters)

        return engine

    parsed = make_url(url)
    memory = parsed.database in (None, "", ":memory:")
    if not memory and parsed.database:
        folder = Path(parsed.database).expanduser().resolve().parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(
                f"HOTFIX_LANE_DATABASE_URL cannot be opened: cannot create {folder}: {exc.strerror}"
            ) from exc
    kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False, "timeout": 30}}
    if memory:
        kwargs["poolclass"] = StaticPool
    engine = create_engine(url, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: sqlite3.Connection, _record: object) -> None:
        # Let SQLAlchemy's "begin" hook below issue BEGIN itself.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        if not memory:
            # Webhook bodies are tens of kilobytes: bigger pages mean shorter overflow chains.
            # (Takes effect only when the file is created.)
            cursor.execute("PRAGMA page_size=16384")
            cursor.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode survives a process crash (a committed row is in the WAL file);
        # only a power cut can lose the last transactions.
        cursor.execute("PRAGMA synchronous=NORMAL")
        if background_checkpoint:
            cursor.execute("PRAGMA wal_autocheckpoint=0")
            # After a burst, give the disk back: a restarted WAL is cut to this size.
            cursor.execute(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        reads_only = bool(conn.get_execution_options().get(READ_ONLY))
        conn.exec_driver_sql("BEGIN" if reads_only else "BEGIN IMMEDIATE")
        if conn.info.get(READ_ONLY, False) != reads_only:
            conn.exec_driver_sql(f"PRAGMA query_only={int(reads_only)}")
            conn.info[READ_ONLY] = reads_only

    @event.listens_for(engine, "checkin")
    def _on_checkin(dbapi_conn: sqlite3.Connection | None, record: ConnectionPoolEntry) -> None:
        # Whoever checks the connection out next (intake's writer takes a raw one and writes
        # with its own BEGIN IMMEDIATE) gets it writable.
        if record.info.pop(READ_ONLY, False) and dbapi_conn is not None:
            dbapi_conn.execute("PRAGMA query_only=0")

    return engine


def read_only(engine: Engine) -> Engine:
    """``engine`` for units of work that only read (gauges, readiness, listings).

    On SQLite their transactions begin deferred, so they neither wait for the writer nor make
    it wait, and cannot write; on PostgreSQL nothing changes. It shares ``engine``'s pool.
    """
    return engine.execution_options(**{READ_ONLY: True})


@contextmanager
def read_session(engine: Engine) -> Iterator[Session]:
    """A session that only reads (see ``read_only``); it never commits."""
    with Session(read_only(engine)) as session:
        yield session


def check_database(engine: Engine) -> None:
    """Open a connection and run a trivial query; raise ``ConfigError`` naming the setting."""
    try:
        # A probe must not queue behind intake's writes for the write lock.
        with read_only(engine).connect() as conn:
            conn.execute(text("SELECT 1"))
    except (SQLAlchemyError, OSError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise ConfigError(f"HOTFIX_LANE_DATABASE_URL cannot be opened: {reason}") from exc


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


class Checkpointer:
    """Copies SQLite's WAL into the database file on a thread of its own, once a second.

    PASSIVE checkpoints never block writers; they only move what no reader still needs.
    """

    def __init__(
        self, engine: Engine, *, interval: float = 1.0, restart_above_bytes: int = 1 << 30
    ) -> None:
        self.engine = engine
        self.interval = interval
        self.restart_above_bytes = restart_above_bytes
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._main, name="hotfix-lane-checkpoint", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        self.checkpoint()

    def checkpoint(self) -> str:
        """Copy the WAL back; returns ``passive``, or ``restart`` when it had grown too big.

        Under sustained intake a PASSIVE checkpoint never finds a quiet moment for the WAL to
        start over, so the file would grow as long as the load lasts. Past
        ``restart_above_bytes`` a RESTART checkpoint waits (busy timeout) for the writer's
        current batch and lets the next one begin at the start of the WAL.
        """
        raw = self.engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
            _busy, frames, _copied = cursor.fetchone() or (0, 0, 0)
            cursor.execute("PRAGMA page_size")
            (page_size,) = cursor.fetchone() or (4096,)
            if frames * page_size <= self.restart_above_bytes:
                return "passive"
            cursor.execute("PRAGMA wal_checkpoint(RESTART)")
            return "restart"
        finally:
            raw.close()

    def _main(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.checkpoint()
            except Exception:
                log.exception("WAL checkpoint failed; retrying in %.0fs", self.interval)
