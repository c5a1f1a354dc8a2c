"""The review's figures and the "last worked" table, read from a real database (SQLite and
PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.ledger.incidents import declaration_key
from app.ledger.last_worked import Worked, last_completed, last_worked
from app.ledger.review import Review, build_review, review_orgs
from app.store.models import Declaration, NoticeRow
from tests.rows import add_follow_up, add_hotfix

SINCE = datetime(2026, 11, 23, tzinfo=UTC)
UNTIL = datetime(2026, 11, 30, tzinfo=UTC)
TRIPPED = "rate_limit_tripped"


def at(day: int, hour: int = 10, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def add_notice(session: Session, kind: str, subject: str, created_at: datetime) -> None:
    session.add(
        NoticeRow(
            key=f"{kind}:{subject}",
            kind=kind,
            channel="#platform-audit",
            text="...",
            notice="{}",
            subject=subject,
            created_at=created_at,
        )
    )


@pytest.fixture
def week(engine: Engine) -> Engine:
    """Four hotfixes and a drill in the week, two merges just outside it, their follow-ups and
    the rate-limit notices of three organisations."""
    with Session(engine) as session:
        h1 = add_hotfix(session, "acme/api", 1, at(24), author="bob")
        h2 = add_hotfix(session, "acme/api", 2, at(25), author="bob")
        h3 = add_hotfix(session, "acme/web", 3, at(26), author="carol")
        drill = add_hotfix(session, "acme/api", 4, at(27), author="bob", drill=True)
        h5 = add_hotfix(session, "Umbrella/ops", 5, at(28), author="dave")
        add_hotfix(session, "acme/api", 6, UNTIL, author="bob")  # the end is excluded
        h7 = add_hotfix(session, "acme/api", 7, at(22, 23, 59), author="bob")

        add_follow_up(session, h1, "cleanup", at(25), "done", done_at=at(25, 9))
        # Done a day late: the deadline was missed, so it is overdue for the review.
        add_follow_up(session, h1, "postmortem", at(26), "done", done_at=at(27))
        add_follow_up(session, h1, "audit_review", at(1, month=12), "open")  # due next week
        add_follow_up(session, h2, "cleanup", at(26), "overdue")
        add_follow_up(session, h2, "postmortem", at(27), "open")
        add_follow_up(session, h2, "audit_review", at(27), "waived")
        add_follow_up(session, h3, "cleanup", at(27), "done", done_at=at(27))  # on the minute
        add_follow_up(session, drill, "cleanup", at(28), "overdue")
        add_follow_up(session, drill, "postmortem", at(28), "done", done_at=at(27))
        add_follow_up(session, h5, "cleanup", at(29), "done", done_at=at(28))
        # Merged the week before, due this week: this week's deadline.
        add_follow_up(session, h7, "cleanup", at(23, 12), "done", done_at=at(23, 11))

        add_notice(session, TRIPPED, "acme/api#2", at(25))
        add_notice(session, TRIPPED, "ACME/web#3", at(26))
        add_notice(session, TRIPPED, "Umbrella/ops#5", at(28))
        add_notice(session, TRIPPED, "acme-labs/tools#9", at(26))
        add_notice(session, TRIPPED, "acme/api#6", UNTIL)
        add_notice(session, "admin_merge", "acme/api#1", at(24))
        session.commit()
    return engine


def review(engine: Engine, org: str | None = None) -> Review:
    with Session(engine) as session:
        return build_review(session, since=SINCE, until=UNTIL, org=org)


def test_the_review_of_every_organisation_counts_hotfixes_not_drills(week: Engine) -> None:
    assert review(week) == Review(
        since=SINCE,
        until=UNTIL,
        org=None,
        hotfixes=4,
        drills=1,
        by_repository=(("acme/api", 2), ("acme/web", 1), ("Umbrella/ops", 1)),
        by_author=(("bob", 2), ("carol", 1), ("dave", 1)),
        follow_ups_on_time=4,
        follow_ups_overdue=2,
        follow_ups_open=1,
        rate_limit_trips=4,
    )


def test_the_review_of_one_organisation_matches_it_in_any_case(week: Engine) -> None:
    assert review(week, org="ACME") == Review(
        since=SINCE,
        until=UNTIL,
        org="ACME",
        hotfixes=3,
        drills=1,
        by_repository=(("acme/api", 2), ("acme/web", 1)),
        by_author=(("bob", 2), ("carol", 1)),
        follow_ups_on_time=3,
        follow_ups_overdue=2,
        follow_ups_open=1,
        # acme/api#2 and ACME/web#3; acme-labs is another organisation.
        rate_limit_trips=2,
    )


def test_an_organisation_with_capitals_in_the_ledger_is_found_in_lower_case(
    week: Engine,
) -> None:
    figures = review(week, org="umbrella")
    assert (figures.hotfixes, figures.drills, figures.by_repository, figures.by_author) == (
        1,
        0,
        (("Umbrella/ops", 1),),
        (("dave", 1),),
    )
    assert (figures.follow_ups_on_time, figures.follow_ups_overdue) == (1, 0)
    assert figures.rate_limit_trips == 1


def test_a_quiet_period_has_nothing_to_count(week: Engine) -> None:
    with Session(week) as session:
        quiet = build_review(session, since=at(1, month=10), until=at(8, month=10))
    assert (quiet.hotfixes, quiet.drills, quiet.by_repository, quiet.by_author) == (0, 0, (), ())
    assert (quiet.follow_ups_on_time, quiet.follow_ups_overdue, quiet.follow_ups_open) == (0, 0, 0)
    assert quiet.rate_limit_trips == 0


def test_the_digest_goes_to_every_organisation_with_something_to_report(week: Engine) -> None:
    with Session(week) as session:
        assert review_orgs(session, since=SINCE, until=UNTIL) == ["acme", "acme-labs", "Umbrella"]
        # A drill alone is worth a digest; the trip of acme/api#6 at the end is not in it.
        assert review_orgs(session, since=at(27), until=at(28)) == ["acme"]
        assert review_orgs(session, since=UNTIL, until=UNTIL + timedelta(days=7)) == ["acme"]
        assert review_orgs(session, since=at(1, month=10), until=at(8, month=10)) == []


@pytest.fixture
def worked(engine: Engine) -> Engine:
    """A declared hotfix that deployed, one declared after its merge, a drill, another org."""
    with Session(engine) as session:
        add_hotfix(
            session,
            "acme/api",
            10,
            at(1, 10, month=8),
            incident_id="INC-2026-08-01-001",
            deployed_at=at(1, 10, 12, month=8) + timedelta(seconds=30),
        )
        add_hotfix(session, "Acme/web", 11, at(2, 11, month=8), incident_id="INC-2026-08-02-001")
        add_hotfix(session, "acme/api", 12, at(3, 9, month=8), incident_id=None, drill=True)
        add_hotfix(session, "umbrella/ops", 13, at(1, 9, month=7), incident_id=None)
        declarations = [
            ("acme", "INC-2026-08-01-001", "acme/api", 10, at(1, 9, 46, month=8)),
            # Declared only after the merge: no declared-to-merge time.
            ("acme", "INC-2026-08-02-001", "Acme/web", 11, at(2, 12, month=8)),
            ("acme", None, "acme/api", 12, at(3, 8, 55, month=8)),
        ]
        for org, incident, repo, number, declared_at in declarations:
            session.add(
                Declaration(
                    key=declaration_key(org, incident, repo, number),
                    org=org,
                    incident_id=incident,
                    repo_full_name=repo,
                    number=number,
                    drill=incident is None,
                    declared_at=declared_at,
                )
            )
        session.commit()
    return engine


def test_last_worked_lists_hotfixes_and_drills_newest_first(worked: Engine) -> None:
    with Session(worked) as session:
        rows = last_worked(session)
    assert rows == [
        Worked(at(3, 9, month=8), None, "acme/api", 12, "drill", 5.0, None),
        Worked(at(2, 11, month=8), "INC-2026-08-02-001", "Acme/web", 11, "hotfix", None, None),
        Worked(at(1, 10, month=8), "INC-2026-08-01-001", "acme/api", 10, "hotfix", 14.0, 12.5),
        Worked(at(1, 9, month=7), None, "umbrella/ops", 13, "hotfix", None, None),
    ]


def test_last_worked_stops_at_the_limit(worked: Engine) -> None:
    with Session(worked) as session:
        assert [row.number for row in last_worked(session, limit=2)] == [12, 11]


def test_last_completed_is_the_latest_merge_of_the_organisation_drills_included(
    worked: Engine,
) -> None:
    with Session(worked) as session:
        latest = last_completed(session, org="ACME")
        other = last_completed(session, org="Umbrella")
        none = last_completed(session, org="initech")
    assert latest is not None and (latest.number, latest.drill) == (12, True)
    assert other is not None and other.number == 13
    assert none is None


def test_a_week_with_only_a_follow_up_due_still_gets_its_digest(engine: Engine) -> None:
    """An audit review falls due a week after its merge, often in a week with no hotfix."""
    with Session(engine) as session:
        hotfix = add_hotfix(session, "Acme/api", 7, at(2))
        add_follow_up(session, hotfix, "audit-review", at(9), "overdue")
        drill = add_hotfix(session, "drills/api", 8, at(2), drill=True)
        add_follow_up(session, drill, "audit-review", at(9), "overdue")
        session.commit()

        assert review_orgs(session, since=at(8), until=at(15)) == ["Acme"]
