"""Storing deliveries: the SQLite fast path writes what SQLAlchemy would, on every backend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import StatementError
from sqlmodel import Session, col, select

from app.intake.deliveries import insert_deliveries, sqlite_utc_text
from app.jobs.queue import enqueue_many
from app.store import migrate
from app.store.db import make_engine
from app.store.models import Delivery, Job
from tests.rows import delivery_row as row

NOW = 1_800_000_000.25


def store(engine: Engine, rows: list[dict[str, Any]], max_attempts: int = 8) -> set[str]:
    with engine.begin() as conn:
        return insert_deliveries(conn, rows, now=NOW, max_attempts=max_attempts)


def jobs(engine: Engine) -> list[tuple[str, str, str, str]]:
    with Session(engine) as session:
        found = session.exec(select(Job).order_by(col(Job.id))).all()
        return [(j.kind, j.key, j.ref, j.status) for j in found]


def test_new_deliveries_are_stored_with_one_job_each(engine: Engine) -> None:
    assert store(engine, [row("a"), row("b", action=None, installation_id=None)]) == {"a", "b"}

    with Session(engine) as session:
        stored = {d.id: d for d in session.exec(select(Delivery))}
    assert stored["a"].received_at == datetime(2026, 11, 26, 9, 30, 0, 123456, tzinfo=UTC)
    assert stored["a"].body == b'{"action":"opened"}'
    assert (stored["b"].action, stored["b"].installation_id) == (None, None)
    assert jobs(engine) == [
        ("delivery", "delivery:a", "a", "queued"),
        ("delivery", "delivery:b", "b", "queued"),
    ]


def test_a_stored_id_is_not_new_again_and_gets_no_second_job(engine: Engine) -> None:
    store(engine, [row("a")])

    assert store(engine, [row("b"), row("a", action="closed")]) == {"b"}

    with Session(engine) as session:
        first = session.get(Delivery, "a")
    assert first is not None and first.action == "opened"
    assert [key for _kind, key, _ref, _status in jobs(engine)] == ["delivery:a", "delivery:b"]


def test_the_first_of_two_rows_with_one_id_in_a_batch_wins(engine: Engine) -> None:
    assert store(engine, [row("a", action="first"), row("a", action="second")]) == {"a"}

    with Session(engine) as session:
        stored = session.get(Delivery, "a")
    assert stored is not None and stored.action == "first"
    assert len(jobs(engine)) == 1


def test_batches_larger_than_one_existence_query(engine: Engine) -> None:
    ids = [f"d-{i}" for i in range(1203)]
    store(engine, [row(d) for d in ids[::2]])

    assert store(engine, [row(d) for d in ids]) == set(ids[1::2])
    assert len(jobs(engine)) == len(ids)


def test_received_at_is_stored_in_utc_whatever_the_zone(engine: Engine) -> None:
    plus_two = timezone(timedelta(hours=2))
    store(engine, [row("a", received_at=datetime(2026, 11, 26, 11, 30, tzinfo=plus_two))])

    with Session(engine) as session:
        stored = session.get(Delivery, "a")
    assert stored is not None
    assert stored.received_at == datetime(2026, 11, 26, 9, 30, tzinfo=UTC)


def test_a_naive_received_at_is_refused(engine: Engine) -> None:
    # SQLAlchemy wraps the ValueError of the column type in a StatementError.
    with pytest.raises((ValueError, StatementError), match="naive"):
        store(engine, [row("a", received_at=datetime(2026, 11, 26, 9, 30))])
    assert jobs(engine) == []


@pytest.mark.parametrize(
    "value",
    [
        datetime(2026, 11, 26, 9, 30, tzinfo=UTC),
        datetime(2026, 11, 26, 9, 30, 0, 7, tzinfo=UTC),
        datetime(5, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
        datetime(2026, 11, 26, 23, 30, tzinfo=timezone(timedelta(hours=-5))),
    ],
)
def test_the_received_at_text_is_what_sqlalchemy_would_bind(value: datetime) -> None:
    dialect = sqlite.dialect()
    column_type = Delivery.__table__.c.received_at.type  # type: ignore[attr-defined]
    process = column_type.dialect_impl(dialect).bind_processor(dialect)

    assert sqlite_utc_text(value) == process(value)


def test_sqlite_rows_are_the_ones_sqlalchemy_would_write(tmp_path: Any) -> None:
    """The fast path bypasses the models; what it writes must not differ in any column."""
    engine = make_engine(f"sqlite:///{tmp_path}/parity.db")
    migrate.upgrade(engine)
    try:
        store(engine, [row("fast")], max_attempts=5)
        with engine.begin() as conn:
            conn.execute(sqlite.insert(Delivery), [row("core")])
            enqueue_many(
                conn,
                [{"kind": "delivery", "key": "delivery:core", "ref": "core", "max_attempts": 5}],
                now=NOW,
            )
        with engine.connect() as conn:
            delivery_columns = [c.name for c in Delivery.__table__.columns]  # type: ignore[attr-defined]
            job_columns = [c.name for c in Job.__table__.columns]  # type: ignore[attr-defined]
            deliveries = {
                d[0]: d[1:]
                for d in conn.exec_driver_sql(
                    "SELECT id, "
                    + ", ".join(f"typeof({c}), {c}" for c in delivery_columns if c != "id")
                    + " FROM delivery"
                )
            }
            jobs_by_ref = {
                j[0]: j[1:]
                for j in conn.exec_driver_sql(
                    "SELECT ref, "
                    + ", ".join(
                        f"typeof({c}), {c}" for c in job_columns if c not in ("id", "key", "ref")
                    )
                    + " FROM job"
                )
            }
        assert deliveries["fast"] == deliveries["core"]
        assert jobs_by_ref["fast"] == jobs_by_ref["core"]
    finally:
        engine.dispose()
