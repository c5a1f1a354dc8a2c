"""When each follow-up of a merged hotfix is due, and when its owner is reminded.

Runbook steps 1 and 7-9: the cleanup owner opens the return-to-normal-flow PR within 24 hours
and the postmortem within 48; a platform-team member who is not the author reviews the audit
trail within a week; a hotfix that used the breakglass role owes its cleanup checklist too.
Pure: the merge time and the policy are passed in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from app.policy.model import Policy


class FollowUpKind(StrEnum):
    """What a merged hotfix owes; the value is stored."""

    CLEANUP_PR = "cleanup-pr"
    POSTMORTEM = "postmortem"
    AUDIT_REVIEW = "audit-review"
    BREAKGLASS = "breakglass-cleanup"

    @property
    def label(self) -> str:
        """The name people read, in the tracking issue and in Slack."""
        return _LABELS[self]


_LABELS = {
    FollowUpKind.CLEANUP_PR: "cleanup PR",
    FollowUpKind.POSTMORTEM: "postmortem",
    FollowUpKind.AUDIT_REVIEW: "audit review",
    FollowUpKind.BREAKGLASS: "breakglass cleanup",
}


@dataclass(frozen=True)
class Obligation:
    kind: FollowUpKind
    # A login, or "org/team" for the review team; None when nobody could be named.
    owner: str | None
    due_at: datetime


def window(kind: FollowUpKind, policy: Policy, *, drill: bool = False) -> timedelta:
    """How long after the merge ``kind`` is due; a drill's windows are scaled down by
    ``drill.time_scale``, so the game-day runs the whole cycle in minutes."""
    follow_ups = policy.follow_ups
    hours = {
        FollowUpKind.CLEANUP_PR: follow_ups.cleanup_hours,
        FollowUpKind.POSTMORTEM: follow_ups.postmortem_hours,
        FollowUpKind.AUDIT_REVIEW: follow_ups.audit_review_days * 24,
        FollowUpKind.BREAKGLASS: follow_ups.breakglass_hours,
    }[kind]
    scale = policy.drill.time_scale if drill else 1.0
    return timedelta(hours=hours * scale)


def due_at(
    kind: FollowUpKind, merged_at: datetime, policy: Policy, *, drill: bool = False
) -> datetime:
    return merged_at + window(kind, policy, drill=drill)


def remind_at(
    kind: FollowUpKind, merged_at: datetime, policy: Policy, *, drill: bool = False
) -> datetime:
    """The reminder's time: ``remind_before_hours`` before the deadline (scaled like the
    deadline in a drill), by default a quarter of the window; never before the merge."""
    span = window(kind, policy, drill=drill)
    before = policy.follow_ups.remind_before_hours
    if before is not None and drill:
        before *= policy.drill.time_scale
    lead = span / 4 if before is None else min(timedelta(hours=before), span)
    return merged_at + span - lead


def obligations(
    *,
    merged_at: datetime,
    author: str,
    cleanup_owner: str | None,
    breakglass: bool,
    org: str,
    policy: Policy,
    drill: bool = False,
) -> tuple[Obligation, ...]:
    """What a hotfix merged at ``merged_at`` owes, with owners and due times.

    The cleanup owner (usually the author, runbook step 1) owns the cleanup PR, the
    postmortem and the breakglass checklist; the review team owns the audit review.
    """
    owner = cleanup_owner or author
    kinds = [FollowUpKind.CLEANUP_PR, FollowUpKind.POSTMORTEM, FollowUpKind.AUDIT_REVIEW]
    if breakglass:
        kinds.append(FollowUpKind.BREAKGLASS)
    team = f"{org}/{policy.teams.review}"
    return tuple(
        Obligation(
            kind=kind,
            owner=team if kind is FollowUpKind.AUDIT_REVIEW else owner,
            due_at=due_at(kind, merged_at, policy, drill=drill),
        )
        for kind in kinds
    )
