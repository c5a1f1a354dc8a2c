"""The weekly digest's and the stale runbook's exact wording, fields and keys."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from app.notify import notices
from app.notify.notices import Notice, NoticeKind, Thread

SINCE = datetime(2026, 11, 23, tzinfo=UTC)
UNTIL = datetime(2026, 11, 30, tzinfo=UTC)


def digest(**changes: Any) -> Notice:
    values: dict[str, Any] = {
        "org": "acme",
        "since": SINCE,
        "until": UNTIL,
        "hotfixes": 3,
        "drills": 1,
        "by_repository": [("acme/api", 2), ("acme/web", 1)],
        "by_author": [("bob", 2), ("carol", 1)],
        "on_time": 4,
        "overdue": 1,
        "open": 2,
        "rate_limit_trips": 2,
    }
    values.update(changes)
    return notices.weekly_digest(**values)


def test_the_weekly_digest_states_the_weeks_figures() -> None:
    assert digest() == Notice(
        kind=NoticeKind.WEEKLY_DIGEST,
        violation=False,
        text="Weekly hotfix digest for acme, 2026-11-23 to 2026-11-30: 3 hotfixes (1 drill), "
        "follow-ups 4 on time and 1 overdue, rate limit tripped 2 times.",
        fields=(
            ("Hotfixes by repository", "acme/api 2, acme/web 1"),
            ("Hotfixes by author", "@bob 2, @carol 1"),
            ("Follow-ups", "4 on time, 1 overdue, 2 open"),
            ("Rate-limit trips", "2"),
        ),
        link=None,
        idempotency_key="weekly-digest:acme:2026-11-30",
        subject=None,
        thread=Thread.TOP,
    )


def test_a_quiet_week_reads_in_the_singular_and_lists_nobody() -> None:
    notice = digest(
        hotfixes=1,
        drills=0,
        by_repository=[],
        by_author=[],
        on_time=0,
        overdue=0,
        open=0,
        rate_limit_trips=0,
    )
    assert notice.text == (
        "Weekly hotfix digest for acme, 2026-11-23 to 2026-11-30: 1 hotfix, "
        "follow-ups 0 on time and 0 overdue, rate limit not tripped."
    )
    assert notice.fields == (
        ("Hotfixes by repository", "none"),
        ("Hotfixes by author", "none"),
        ("Follow-ups", "0 on time, 0 overdue, 0 open"),
        ("Rate-limit trips", "0"),
    )


def test_two_drills_and_one_trip() -> None:
    notice = digest(hotfixes=0, drills=2, rate_limit_trips=1)
    assert notice.text == (
        "Weekly hotfix digest for acme, 2026-11-23 to 2026-11-30: 0 hotfixes (2 drills), "
        "follow-ups 4 on time and 1 overdue, rate limit tripped once."
    )


def test_a_busy_week_lists_ten_names_and_counts_the_rest() -> None:
    repos = [(f"acme/svc-{i:02d}", 1) for i in range(12)]
    authors = [(f"dev{i}", 1) for i in range(11)]
    fields = dict(digest(by_repository=repos, by_author=authors).fields)
    assert fields["Hotfixes by repository"] == (
        ", ".join(f"acme/svc-{i:02d} 1" for i in range(10)) + " and 2 more"
    )
    assert fields["Hotfixes by author"] == (
        ", ".join(f"@dev{i} 1" for i in range(10)) + " and 1 more"
    )


def test_exactly_ten_names_need_no_more() -> None:
    repos = [(f"acme/svc-{i}", 1) for i in range(10)]
    fields = dict(digest(by_repository=repos).fields)
    assert not fields["Hotfixes by repository"].endswith("more")


def test_the_digest_of_a_week_keyed_in_utc_survives_the_outbox() -> None:
    notice = digest(until=datetime.fromisoformat("2026-11-30T01:00:00+02:00"))
    assert notice.idempotency_key == "weekly-digest:acme:2026-11-29"
    assert Notice.from_dict(notice.to_dict()) == notice


def test_a_naive_week_is_refused() -> None:
    with pytest.raises(ValueError, match="no time zone"):
        digest(since=datetime(2026, 11, 23))


def stale(**changes: Any) -> Notice:
    values: dict[str, Any] = {
        "org": "acme",
        "days": 91,
        "stale_after_days": 90,
        "last_incident": "INC-2026-08-31-001",
        "last_at": datetime(2026, 8, 31, 14, 5, tzinfo=UTC),
        "key_suffix": "2026-11-29",
        "drill_label": "hotfix-drill",
    }
    values.update(changes)
    return notices.runbook_stale(**values)


def test_a_stale_runbook_asks_for_a_drill() -> None:
    assert stale() == Notice(
        kind=NoticeKind.RUNBOOK_STALE,
        violation=False,
        text="RUNBOOK STALE: no hotfix or drill has merged in acme for 91 days "
        "(stale after 90): run a drill, a pull request labelled hotfix-drill.",
        fields=(("Last worked", "INC-2026-08-31-001 on 2026-08-31"),),
        link=None,
        idempotency_key="runbook-stale:acme:2026-11-29",
        subject=None,
        thread=Thread.TOP,
    )


def test_a_runbook_that_never_worked_counts_from_the_installation() -> None:
    notice = stale(last_incident=None, last_at=None)
    assert notice.text == (
        "RUNBOOK STALE: no hotfix or drill has merged in acme since hotfix-lane was installed "
        "91 days ago (stale after 90): run a drill, a pull request labelled hotfix-drill."
    )
    assert notice.fields == (("Last worked", "never"),)


def test_a_last_hotfix_without_an_incident_is_shown_by_its_date() -> None:
    notice = stale(last_incident=None)
    assert notice.fields == (("Last worked", "2026-08-31"),)
