"""When each follow-up of a merged hotfix is due, who owns it, and when the reminder goes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.rules.due_dates import FollowUpKind, Obligation, obligations, remind_at
from tests.rules.factories import policy

MERGED = datetime(2026, 5, 20, 9, 52, tzinfo=UTC)


def owed(
    *, cleanup_owner: str | None = "bob", breakglass: bool = False, override: str | None = None
) -> tuple[Obligation, ...]:
    return obligations(
        merged_at=MERGED,
        author="bob",
        cleanup_owner=cleanup_owner,
        breakglass=breakglass,
        org="acme",
        policy=policy(override),
    )


def test_the_runbook_defaults_are_24_hours_48_hours_and_a_week() -> None:
    assert owed() == (
        Obligation(FollowUpKind.CLEANUP_PR, "bob", MERGED + timedelta(hours=24)),
        Obligation(FollowUpKind.POSTMORTEM, "bob", MERGED + timedelta(hours=48)),
        Obligation(FollowUpKind.AUDIT_REVIEW, "acme/platform-team", MERGED + timedelta(days=7)),
    )


def test_breakglass_adds_its_cleanup_owned_by_the_cleanup_owner() -> None:
    assert owed(breakglass=True)[-1] == Obligation(
        FollowUpKind.BREAKGLASS, "bob", MERGED + timedelta(hours=24)
    )


def test_without_a_cleanup_owner_the_author_owns_the_cleanup() -> None:
    assert owed(cleanup_owner=None)[0].owner == "bob"


def test_fractions_let_a_drill_run_in_seconds() -> None:
    drill = "follow_ups: {cleanup_hours: 0.01, postmortem_hours: 0.02, audit_review_days: 0.001}"
    due = [item.due_at - MERGED for item in owed(override=drill)]
    assert due == [timedelta(seconds=36), timedelta(seconds=72), timedelta(seconds=86.4)]


@pytest.mark.parametrize(
    ("override", "kind", "expected"),
    [
        pytest.param(
            None,
            FollowUpKind.CLEANUP_PR,
            timedelta(hours=18),
            id="a quarter of the window before by default",
        ),
        pytest.param(
            None, FollowUpKind.AUDIT_REVIEW, timedelta(days=5, hours=6), id="a quarter of a week"
        ),
        pytest.param(
            "follow_ups: {remind_before_hours: 2}",
            FollowUpKind.POSTMORTEM,
            timedelta(hours=46),
            id="a set lead time",
        ),
        pytest.param(
            "follow_ups: {remind_before_hours: 100}",
            FollowUpKind.CLEANUP_PR,
            timedelta(0),
            id="never before the merge",
        ),
    ],
)
def test_the_reminder_comes_before_the_deadline(
    override: str | None, kind: FollowUpKind, expected: timedelta
) -> None:
    assert remind_at(kind, MERGED, policy(override)) - MERGED == expected


def test_labels_name_the_follow_ups_as_people_do() -> None:
    assert [kind.label for kind in FollowUpKind] == [
        "cleanup PR",
        "postmortem",
        "audit review",
        "breakglass cleanup",
    ]
