"""The ledger's history of a new hotfix, read from a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.ledger.history import read_history
from app.ledger.records import record_hotfix
from app.rules.model import LaneHistory, MergedHotfix
from app.store.models import FollowUp
from tests.rows import INCIDENT, hotfix_record
from tests.rules.factories import policy

NOW = datetime(2026, 5, 20, 12, 0, tzinfo=UTC)
THIS_QUARTER = datetime(2026, 4, 10, 9, 0, tzinfo=UTC)
LAST_QUARTER = datetime(2026, 3, 30, 9, 0, tzinfo=UTC)
OTHER_INCIDENT = "INC-2026-04-10-002"
KINDS = ("cleanup", "postmortem", "audit_review")


def add_hotfix(
    session: Session, number: int, merged_at: datetime, *follow_up_states: str, **changes: str
) -> None:
    """A merged hotfix of acme/bookstore-platform with one follow-up per state given."""
    row, _new = record_hotfix(
        session,
        record=hotfix_record(
            merged_at,
            number=number,
            title=f"HOTFIX: #{number}",
            head_sha=f"{number:040d}",
            **changes,
        ),
    )
    assert row.id is not None
    for kind, state in zip(KINDS, follow_up_states, strict=False):
        session.add(
            FollowUp(
                hotfix_id=row.id,
                kind=kind,
                state=state,
                due_at=merged_at + timedelta(days=1),
                overdue_at=merged_at + timedelta(days=1) if state == "overdue" else None,
                created_at=merged_at,
                updated_at=merged_at,
            )
        )


def history(engine: Engine, *, incident_id: str | None = INCIDENT) -> LaneHistory:
    with Session(engine) as session:
        return read_history(
            session,
            repo_full_name="acme/bookstore-platform",
            author="bob",
            incident_id=incident_id,
            policy=policy(),
            now=NOW,
        )


def test_overdue_follow_ups_of_the_authors_hotfixes_this_quarter_are_counted(
    engine: Engine,
) -> None:
    with Session(engine) as session:
        add_hotfix(session, 1, THIS_QUARTER, "overdue", "overdue", "open")
        add_hotfix(session, 2, THIS_QUARTER, "done", "waived", "overdue", author="BOB")
        # Not counted: last quarter's hotfix, someone else's, another organisation's.
        add_hotfix(session, 3, LAST_QUARTER, "overdue")
        add_hotfix(session, 4, THIS_QUARTER, "overdue", author="erin")
        add_hotfix(session, 5, THIS_QUARTER, "overdue", org="globex", repo_full_name="globex/shop")
        session.commit()

    read = history(engine)

    assert (read.author_this_quarter, read.author_overdue_this_quarter) == (2, 3)


def test_the_incidents_merged_hotfixes_are_listed_across_the_organisation(
    engine: Engine,
) -> None:
    with Session(engine) as session:
        add_hotfix(session, 11, THIS_QUARTER + timedelta(hours=1))
        add_hotfix(session, 12, THIS_QUARTER, repo_full_name="acme/inventory")
        # Not listed: another incident's hotfix, and another organisation's.
        add_hotfix(session, 13, THIS_QUARTER, incident_id=OTHER_INCIDENT)
        add_hotfix(session, 14, THIS_QUARTER, org="globex", repo_full_name="globex/shop")
        session.commit()

    assert history(engine).incident_hotfixes == (
        MergedHotfix("acme/inventory", 12, "HOTFIX: #12"),
        MergedHotfix("acme/bookstore-platform", 11, "HOTFIX: #11"),
    )
    assert history(engine, incident_id=None).incident_hotfixes == ()
