"""Bounded storage: what is past the retention goes, in batches; what the audit needs stays."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from app.cli import main
from app.store import migrate, prune
from app.store.db import make_engine
from app.store.models import Delivery, EvaluationRecord, Job

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
OLD = NOW - timedelta(days=40)
CUTOFF = NOW - timedelta(days=30)


@pytest.fixture
def engine(database_url: str) -> Engine:
    engine = make_engine(database_url)
    migrate.upgrade(engine)
    return engine


def delivery(session: Session, name: str, at: datetime, status: str | None) -> None:
    session.add(Delivery(id=name, event="push", received_at=at, body=b"{}"))
    if status is not None:
        session.add(job(f"delivery:{name}", status, at, kind="delivery", ref=name))


def job(key: str, status: str, at: datetime, kind: str = "notice", ref: str = "x") -> Job:
    return Job(
        kind=kind, key=key, ref=ref, status=status, run_at=at.timestamp(),
        created_at=at.timestamp(), updated_at=at.timestamp(),
    )  # fmt: skip


def evaluation(session: Session, lane: str, head: str, at: datetime) -> None:
    session.add(
        EvaluationRecord(
            repo_full_name="acme/api", number=7, head_sha=head, lane=lane, state="success",
            description="ok", verdicts=json.dumps([]), evaluated_at=at,
        )
    )  # fmt: skip


def test_what_is_past_the_retention_goes_and_the_rest_stays(engine: Engine) -> None:
    with Session(engine) as session:
        delivery(session, "old-done", OLD, "done")
        delivery(session, "old-dead", OLD, "dead")  # an operator may replay it
        delivery(session, "old-queued", OLD, "queued")
        delivery(session, "old-no-job", OLD, None)  # a ping: no job at all
        delivery(session, "new-done", NOW, "done")
        session.add(job("notice:old", "done", OLD))
        session.add(job("notice:old-dead", "dead", OLD))
        session.add(job("notice:new", "done", NOW))
        for minutes in (0, 1, 2):  # three evaluations of an ordinary PR at one head
            evaluation(session, "ordinary", "a" * 40, OLD + timedelta(minutes=minutes))
        evaluation(session, "ordinary", "b" * 40, OLD)  # the only one at another head
        for minutes in (0, 1):  # a hotfix's history is kept whole
            evaluation(session, "hotfix", "c" * 40, OLD + timedelta(minutes=minutes))
        session.commit()

    counted = prune.prune(engine, before=CUTOFF, dry_run=True)
    assert (counted.deliveries, counted.jobs, counted.evaluations) == (2, 2, 2)
    with Session(engine) as session:
        assert len(session.exec(select(Delivery)).all()) == 5  # a dry run deletes nothing

    pruned = prune.prune(engine, before=CUTOFF)

    assert (pruned.deliveries, pruned.jobs, pruned.evaluations) == (2, 2, 2)
    with Session(engine) as session:
        deliveries = sorted(session.exec(select(col(Delivery.id))).all())
        jobs = sorted(session.exec(select(col(Job.key))).all())
        heads = sorted(
            (lane, head[0])
            for lane, head in session.exec(
                select(col(EvaluationRecord.lane), col(EvaluationRecord.head_sha))
            ).all()
        )
    assert deliveries == ["new-done", "old-dead", "old-queued"]
    assert jobs == [
        "delivery:new-done",
        "delivery:old-dead",
        "delivery:old-queued",
        "notice:new",
        "notice:old-dead",
    ]
    assert heads == [("hotfix", "c"), ("hotfix", "c"), ("ordinary", "a"), ("ordinary", "b")]
    engine.dispose()


def test_a_backlog_goes_in_short_batches(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(prune, "BATCH", 100)
    monkeypatch.setattr(prune, "PAUSE_SECONDS", 0)
    with Session(engine) as session:
        for n in range(1050):
            delivery(session, f"d{n}", OLD, "done")
        session.commit()

    pruned = prune.prune(engine, before=CUTOFF)

    assert (pruned.deliveries, pruned.jobs) == (1050, 1050)
    # 11 batches of deliveries, 11 of jobs, 1 that found no evaluation to delete.
    assert len(pruned.batches) == 23
    engine.dispose()


def test_by_hand_a_dry_run_counts_and_deletes_nothing(
    engine: Engine,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with Session(engine) as session:
        delivery(session, "old-done", datetime.now(UTC) - timedelta(days=40), "done")
        session.commit()
    monkeypatch.setenv("HOTFIX_LANE_DATABASE_URL", database_url)

    assert main(["db", "prune", "--dry-run"]) == 0
    assert capsys.readouterr().out == (
        "would delete 1 deliveries and 1 done jobs older than 30 days, and 0 superseded "
        "evaluations of ordinary pull requests\n"
    )
    assert main(["db", "prune"]) == 0
    assert capsys.readouterr().out.startswith("deleted 1 deliveries and 1 done jobs")
    with Session(engine) as session:
        assert session.exec(select(Delivery)).all() == []
    engine.dispose()
