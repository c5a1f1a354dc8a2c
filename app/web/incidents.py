"""An incident's timeline, from the store: declared, opened, passed, merged, deployed,
verified, follow-ups done or overdue, audit events.

The runbook is a loop around the pull request; this page lays one turn of it out in order,
for the postmortem (step 8) and the audit review (step 9). Pure assembly over rows read here.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from app.rules.due_dates import FollowUpKind
from app.store.models import (
    AuditEvent,
    Declaration,
    EvaluationRecord,
    FollowUp,
    HotfixRecord,
    Recovery,
    TrackedPullRequest,
)

MAX_EVENTS = 500


@dataclass(frozen=True)
class Event:
    at: datetime
    kind: str  # declared, opened, passed, merged, deployed, verified, follow-up, audit
    repo: str
    number: int
    text: str
    alarm: bool = False  # a bypass, an overdue follow-up, a symptom that stayed


@dataclass(frozen=True)
class Timeline:
    incident_id: str
    events: tuple[Event, ...]

    @property
    def pulls(self) -> tuple[tuple[str, int], ...]:
        return tuple(dict.fromkeys((e.repo, e.number) for e in self.events))


def timeline(session: Session, incident_id: str) -> Timeline:
    """Every event of the incident's hotfixes and declarations, oldest first."""
    events: list[Event] = []
    for declared in session.exec(
        select(Declaration).where(col(Declaration.incident_id) == incident_id).limit(50)
    ):
        events.append(
            Event(
                declared.declared_at,
                "declared",
                declared.repo_full_name,
                declared.number,
                f"declared in the status channel by {declared.repo_full_name}#{declared.number}"
                + (" (drill)" if declared.drill else ""),
            )
        )
    hotfixes = list(
        session.exec(
            select(HotfixRecord).where(col(HotfixRecord.incident_id) == incident_id).limit(50)
        )
    )
    pulls = {(e.repo, e.number) for e in events} | {(h.repo_full_name, h.number) for h in hotfixes}
    for repo, number in sorted(pulls):
        events.extend(_pull_events(session, repo, number))
    for hotfix in hotfixes:
        events.extend(_hotfix_events(session, hotfix))
    events.sort(key=lambda e: (e.at, _ORDER.index(e.kind)))
    return Timeline(incident_id, tuple(events[:MAX_EVENTS]))


_ORDER = ("declared", "opened", "passed", "merged", "deployed", "verified", "follow-up", "audit")


def _pull_events(session: Session, repo: str, number: int) -> list[Event]:
    found: list[Event] = []
    tracked = session.get(TrackedPullRequest, (repo, number))
    if tracked is not None:
        opened = _created_at(tracked.pull_request)
        if opened is not None:
            found.append(Event(opened, "opened", repo, number, f"{repo}#{number} opened"))
    first_green = session.exec(
        select(EvaluationRecord)
        .where(
            col(EvaluationRecord.repo_full_name) == repo,
            col(EvaluationRecord.number) == number,
            col(EvaluationRecord.state) == "success",
        )
        .order_by(col(EvaluationRecord.id))
        .limit(1)
    ).first()
    if first_green is not None:
        found.append(
            Event(
                first_green.evaluated_at,
                "passed",
                repo,
                number,
                f"every rule passed at {first_green.head_sha[:12]}",
            )
        )
    return found


def _hotfix_events(session: Session, hotfix: HotfixRecord) -> list[Event]:
    repo, number = hotfix.repo_full_name, hotfix.number
    how = "past branch protection" if hotfix.bypassed else "through the lane"
    found = [
        Event(
            hotfix.merged_at,
            "merged",
            repo,
            number,
            f"merged by @{hotfix.merged_by or 'unknown'} {how}; scan {hotfix.scan_state}",
            alarm=hotfix.bypassed,
        )
    ]
    if hotfix.deployed_at is not None:
        minutes = (hotfix.deployed_at - hotfix.merged_at).total_seconds() / 60
        found.append(
            Event(
                hotfix.deployed_at,
                "deployed",
                repo,
                number,
                f"deployed to {hotfix.deployment_environment or 'an environment'}, "
                f"{minutes:.0f} min after the merge",
            )
        )
    assert hotfix.id is not None
    recovery = session.get(Recovery, hotfix.id)
    if recovery is not None and recovery.concluded_at is not None:
        words = {
            "recovered": f"the symptom recovered ({recovery.last_value})",
            "not_recovered": f"the symptom did NOT recover ({recovery.last_value}): roll back",
            "unverified": f"recovery not verified: {recovery.last_error}",
        }
        found.append(
            Event(
                recovery.concluded_at,
                "verified",
                repo,
                number,
                words.get(recovery.state, recovery.state),
                alarm=recovery.state != "recovered",
            )
        )
    for row in _follow_ups(session, hotfix.id):
        label = FollowUpKind(row.kind).label
        if row.done_at is not None:
            late = " (late)" if row.done_at > row.due_at else ""
            text = f"{label} done by @{row.done_by or 'unknown'}{late}"
            found.append(
                Event(row.done_at, "follow-up", repo, number, text, row.done_at > row.due_at)
            )
        elif row.state == "overdue":
            found.append(
                Event(row.due_at, "follow-up", repo, number, f"{label} OVERDUE", alarm=True)
            )
    for event in session.exec(
        select(AuditEvent).where(col(AuditEvent.hotfix_id) == hotfix.id).limit(100)
    ):
        found.append(
            Event(
                event.created_at,
                "audit",
                repo,
                number,
                f"audit log: {event.action} by @{event.actor or 'unknown'}",
            )
        )
    return found


def _follow_ups(session: Session, hotfix_id: int) -> Sequence[FollowUp]:
    return list(session.exec(select(FollowUp).where(col(FollowUp.hotfix_id) == hotfix_id)))


def _created_at(pull_request_json: str) -> datetime | None:
    try:
        value = json.loads(pull_request_json).get("created_at")
    except (ValueError, AttributeError):
        return None
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
