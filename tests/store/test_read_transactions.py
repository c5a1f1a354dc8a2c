"""Reads do not take SQLite's write lock; writes still take it when they begin.

/metrics, /readyz and listings only read. Were they to begin with ``BEGIN IMMEDIATE`` like
every write, each would queue behind intake's batches (up to the 30 s busy timeout), and a
long read would hold intake up. A write still takes the lock at once: a deferred
transaction that reads and then writes can deadlock against another writer.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import event, select, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import col

from app.followups import metrics as followup_metrics
from app.jobs import queue
from app.jobs.worker import refresh_queue_metrics
from app.store import migrate
from app.store.db import check_database, make_engine, read_session, session_scope
from app.store.models import Job

# Far below the 30 s busy timeout: a read that waited for the lock would miss it.
DEADLINE = 5.0
# How long a write is given to (wrongly) get past a held write lock.
BLOCKED_FOR = 0.3

INSERT_JOB = (
    "INSERT INTO job (kind, key, ref, status, run_at, attempts, max_attempts, created_at, "
    "updated_at) VALUES ('delivery', ?, 'd', ?, 0, 0, 8, 0, 0)"
)


@pytest.fixture
def db_file(tmp_path: Path) -> Path:
    return tmp_path / "hotfix-lane.db"


@pytest.fixture
def sqlite_engine(db_file: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{db_file}")
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


@contextmanager
def holding_the_write_lock(db_file: Path) -> Iterator[sqlite3.Connection]:
    """A second connection, as intake's writer is, in the middle of a write: it holds the
    write lock, with a job it has not committed yet."""
    conn = sqlite3.connect(db_file, isolation_level=None, timeout=0)
    conn.execute("BEGIN IMMEDIATE")
    conn.execute(INSERT_JOB, ("delivery:uncommitted", queue.QUEUED))
    try:
        yield conn
    finally:
        conn.rollback()
        conn.close()


@pytest.fixture
def other_writer(db_file: Path, sqlite_engine: Engine) -> Iterator[sqlite3.Connection]:
    with holding_the_write_lock(db_file) as conn:
        yield conn


def add_jobs(engine: Engine, **by_status: int) -> None:
    with session_scope(engine) as session:
        for status, count in by_status.items():
            for n in range(count):
                key = f"{status}:{n}"
                queue.enqueue(session, kind="delivery", key=key, ref=key, now=1.0)
                session.execute(update(Job).where(col(Job.key) == key).values(status=status))


def gauge(name: str, labels: dict[str, str] | None = None) -> float | None:
    return REGISTRY.get_sample_value(name, labels)


def within_deadline(work: Callable[[], Any]) -> Any:
    pool = ThreadPoolExecutor(max_workers=1)
    try:
        return pool.submit(work).result(timeout=DEADLINE)
    finally:
        # A read stuck behind the lock ends when the test lets go of it, not at the deadline.
        pool.shutdown(wait=False)


def test_the_gauges_refresh_while_another_connection_holds_the_write_lock(
    sqlite_engine: Engine, db_file: Path
) -> None:
    add_jobs(sqlite_engine, queued=2, running=1, dead=1, done=3)
    with holding_the_write_lock(db_file):
        within_deadline(lambda: refresh_queue_metrics(sqlite_engine))
        within_deadline(lambda: followup_metrics.refresh(sqlite_engine))

    # The last committed snapshot: the uncommitted job is not counted.
    assert gauge("hotfix_lane_queue_depth") == 3
    assert gauge("hotfix_lane_dead_jobs") == 1
    assert gauge("hotfix_lane_follow_ups", {"kind": "postmortem", "state": "open"}) == 0


def test_the_readiness_check_answers_while_another_connection_holds_the_write_lock(
    sqlite_engine: Engine, other_writer: sqlite3.Connection
) -> None:
    within_deadline(lambda: check_database(sqlite_engine))


def test_a_read_session_reads_while_another_connection_holds_the_write_lock(
    sqlite_engine: Engine, other_writer: sqlite3.Connection
) -> None:
    def read() -> list[str]:
        with read_session(sqlite_engine) as session:
            return list(session.execute(select(col(Job.key))).scalars())

    assert within_deadline(read) == []


def test_a_read_session_leaves_the_write_lock_free(sqlite_engine: Engine, db_file: Path) -> None:
    other = sqlite3.connect(db_file, isolation_level=None, timeout=0)
    try:
        with read_session(sqlite_engine) as session:
            assert queue.counts(session) == {}
            other.execute("BEGIN IMMEDIATE")  # would raise "database is locked" at once
            other.execute(INSERT_JOB, ("delivery:meanwhile", queue.QUEUED))
            other.execute("COMMIT")
            # Still the snapshot this transaction began with.
            assert queue.counts(session) == {}
    finally:
        other.close()


def test_a_write_takes_the_write_lock_when_it_begins(sqlite_engine: Engine, db_file: Path) -> None:
    other = sqlite3.connect(db_file, isolation_level=None, timeout=0)
    try:
        with session_scope(sqlite_engine) as session:
            queue.counts(session)  # only read so far
            with pytest.raises(sqlite3.OperationalError, match="database is locked"):
                other.execute("BEGIN IMMEDIATE")
    finally:
        other.close()


def test_a_write_waits_for_the_other_writer_then_commits(
    sqlite_engine: Engine, other_writer: sqlite3.Connection
) -> None:
    def write() -> None:
        with session_scope(sqlite_engine) as session:
            queue.enqueue(session, kind="notice", key="notice:1", ref="1", now=1.0)

    with ThreadPoolExecutor(max_workers=1) as pool:
        written = pool.submit(write)
        with pytest.raises(FutureTimeout):
            written.result(timeout=BLOCKED_FOR)
        other_writer.execute("COMMIT")
        written.result(timeout=DEADLINE)

    with read_session(sqlite_engine) as session:
        assert queue.counts(session) == {queue.QUEUED: 2}


def test_a_read_session_refuses_to_write(sqlite_engine: Engine) -> None:
    with (
        read_session(sqlite_engine) as session,
        pytest.raises(OperationalError, match="readonly database"),
    ):
        queue.enqueue(session, kind="notice", key="notice:1", ref="1", now=1.0)


def test_a_connection_that_served_a_read_is_writable_again(sqlite_engine: Engine) -> None:
    with read_session(sqlite_engine) as session:
        queue.counts(session)
    # Intake's writer takes a raw connection from the pool and begins its own transactions.
    raw = sqlite_engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("BEGIN IMMEDIATE")
        cursor.execute(INSERT_JOB, ("delivery:raw", queue.QUEUED))
        cursor.execute("COMMIT")
    finally:
        raw.close()
    with session_scope(sqlite_engine) as session:
        queue.enqueue(session, kind="notice", key="notice:1", ref="1", now=1.0)
    with read_session(sqlite_engine) as session:
        assert queue.counts(session) == {queue.QUEUED: 2}


def test_the_job_gauges_read_only_an_index_range(sqlite_engine: Engine) -> None:
    statements: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        statements.append((statement, params))

    event.listen(sqlite_engine, "before_cursor_execute", capture)
    try:
        refresh_queue_metrics(sqlite_engine)
    finally:
        event.remove(sqlite_engine, "before_cursor_execute", capture)

    # The counts by status, and the oldest due job's wait.
    counted, oldest = [(sql, params) for sql, params in statements if "FROM job" in sql]
    plans = []
    with sqlite_engine.connect() as conn:
        for sql, params in (counted, oldest):
            plans.append(
                [row[-1] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params)]
            )
    assert plans == [
        ["SEARCH job USING COVERING INDEX ix_job_claim (status=?)"],
        ["SEARCH job USING COVERING INDEX ix_job_claim (status=? AND run_at<?)"],
    ]


def test_the_job_counts_leave_done_jobs_out(engine: Engine) -> None:
    add_jobs(engine, queued=2, running=1, dead=1, done=3)

    with read_session(engine) as session:
        assert queue.counts(session) == {"queued": 2, "running": 1, "dead": 1}
    refresh_queue_metrics(engine)
    assert (gauge("hotfix_lane_queue_depth"), gauge("hotfix_lane_dead_jobs")) == (3, 1)


def test_reads_and_writes_work_alike_on_every_database(engine: Engine) -> None:
    check_database(engine)
    followup_metrics.refresh(engine)
    with session_scope(engine) as session:
        queue.enqueue(session, kind="notice", key="notice:1", ref="1", now=1.0)
    with read_session(engine) as session:
        assert session.execute(text("SELECT count(*) FROM job")).scalar_one() == 1
