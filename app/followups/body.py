"""The tracking issue's title and body: a pure function of the ledger and the follow-ups.

One task-list line per follow-up (``- [ ]`` open, ``- [x]`` done) naming it, its owner and
its due time in UTC, so the issue reads as the hotfix's to-do list and GitHub counts its
progress. The audit-review checklist under it is plain bullets, not boxes: it is what the
reviewer looks at, and only ``/hotfix audit-reviewed`` records the review.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from app.rules.due_dates import FollowUpKind
from app.store.models import AuditEvent, FollowUp, HotfixRecord, Recovery

LABEL = "hotfix-follow-up"
_DONE, _OVERDUE = "done", "overdue"


@dataclass(frozen=True)
class AuditWindow:
    """What the audit reviewer checks (runbook step 9), from the declaration to the merge."""

    since: datetime
    until: datetime
    admin_merges: Sequence[HotfixRecord]
    events: Sequence[AuditEvent]


def title(hotfix: HotfixRecord) -> str:
    incident = hotfix.incident_id or "no incident id"
    return f"Hotfix follow-up: {incident} (#{hotfix.number})"


def when(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M UTC")


def mention(login: str | None) -> str:
    return f"@{login.removeprefix('@')}" if login else "nobody named"


def follow_up_line(row: FollowUp) -> str:
    """``- [ ] cleanup PR: owner @bob, due 2026-05-21 09:52 UTC``, ticked when done."""
    kind = FollowUpKind(row.kind)
    box = "x" if row.state == _DONE else " "
    line = f"- [{box}] {kind.label}: owner {mention(row.owner)}, due {when(row.due_at)}"
    if row.state == _DONE:
        by = f" by {mention(row.done_by)}" if row.done_by else ""
        done_at = f" {when(row.done_at)}" if row.done_at else ""
        evidence = f" ({row.evidence})" if row.evidence else ""
        line += f"; done{done_at}{by}{evidence}"
    elif row.state == _OVERDUE:
        line += "; **OVERDUE**"
    return line


def render(
    hotfix: HotfixRecord,
    follow_ups: Sequence[FollowUp],
    window: AuditWindow,
    *,
    review_team: str,
    recovery: Recovery | None = None,
) -> str:
    """The whole body, rewritten each time a follow-up changes (or the hotfix is deployed,
    or its recovery is decided)."""
    merged = "through branch protection"
    if hotfix.bypassed:
        reasons = "; ".join(str(r) for r in json.loads(hotfix.bypass_reasons or "[]"))
        merged = f"admin bypass: {reasons}" if reasons else "admin bypass"
    breakglass = (
        "**used**: was its scope minimal, and is its cleanup checklist done?"
        if hotfix.breakglass
        else "not declared as used."
    )
    drill = (
        [
            "**[DRILL]** A game-day drill: the whole lane as a dry run, with its deadlines scaled "
            "down. It is not counted by the rate limit or the author quota.",
            "",
        ]
        if hotfix.drill
        else []
    )
    lines = [
        f"<!-- hotfix-lane:tracking {hotfix.repo_full_name}#{hotfix.number} -->",
        *drill,
        f"Follow-ups of hotfix #{hotfix.number}, merged {when(hotfix.merged_at)}. "
        "The runbook's non-negotiable: every hotfix is followed by a cleanup PR, a "
        "postmortem and an audit-log review.",
        "",
        "| | |",
        "|---|---|",
        f"| Pull request | {hotfix.url or f'#{hotfix.number}'} |",
        f"| Incident | {hotfix.incident_id or 'none named'} |",
        f"| Approver | {mention(hotfix.approver)} |",
        f"| Cleanup owner | {mention(hotfix.cleanup_owner)} |",
        f"| Merged by | {mention(hotfix.merged_by)} ({merged}) |",
        f"| Scan at merge | {hotfix.scan_state} |",
        "",
        "## Follow-ups",
        "",
        *(follow_up_line(row) for row in follow_ups),
        "",
        "Comment `/hotfix help` here or on the pull request for the commands that close them.",
        "",
        "## Shipped and verified",
        "",
        deployment_line(hotfix),
        recovery_line(recovery),
        "",
        "## Audit review checklist",
        "",
        f"For a member of {mention(review_team)} who is not the author, the approver or who "
        f"merged it. The hotfix window: {when(window.since)} to {when(window.until)}.",
        "",
        "Admin merges in the window (was the approver correct?):",
        *_admin_merges(window.admin_merges),
        "",
        f"Breakglass role: {breakglass}",
        "",
        f"Audit-log events for {hotfix.repo_full_name} in the window (any unrelated action: "
        "investigate):",
        *_events(window.events),
    ]
    return "\n".join(lines) + "\n"


def deployment_line(hotfix: HotfixRecord) -> str:
    """Runbook step 5: when the merge (or a later commit) was deployed, if it was."""
    if hotfix.deployed_at is None:
        return "- Deployed: no successful deployment reported yet."
    minutes = (hotfix.deployed_at - hotfix.merged_at).total_seconds() / 60
    return (
        f"- Deployed: {hotfix.deployment_environment or 'an environment'} at "
        f"{when(hotfix.deployed_at)}, {minutes:.0f} min after the merge."
    )


def recovery_line(recovery: Recovery | None) -> str:
    """Runbook step 6: whether the symptom metric recovered, as Prometheus said."""
    if recovery is None:
        return (
            "- Recovery: not verified by hotfix-lane (no `verify` query in the policy, or no "
            "Prometheus configured): re-query the symptom metric by hand."
        )
    value = recovery.last_value or "no data"
    if recovery.state == "recovered":
        at = when(recovery.concluded_at) if recovery.concluded_at else "?"
        return f"- Recovery: **recovered** at {at}: the symptom metric read {value}."
    if recovery.state == "not_recovered":
        return (
            f"- Recovery: **DID NOT RECOVER** by {when(recovery.deadline)} (last value {value}): "
            "roll back the hotfix (revert + sync); do not chain another hotfix."
        )
    if recovery.state == "unverified":
        return (
            f"- Recovery: **not verified**: {recovery.last_error or 'no answer'}; check the "
            "symptom metric by hand."
        )
    if recovery.state == "waiting":
        return (
            f"- Recovery: waiting for the deployment; verified from then, or from "
            f"{when(recovery.deadline)} if none is reported."
        )
    return f"- Recovery: being verified until {when(recovery.deadline)} (last value {value})."


def _admin_merges(rows: Sequence[HotfixRecord]) -> list[str]:
    if not rows:
        return ["- none recorded"]
    return [
        f"- {row.repo_full_name}#{row.number} merged {when(row.merged_at)} by "
        f"{mention(row.merged_by)}; approver {mention(row.approver)}"
        for row in rows
    ]


def _events(rows: Sequence[AuditEvent]) -> list[str]:
    if not rows:
        return ["- none recorded"]
    return [f"- {when(row.created_at)} `{row.action}` by {mention(row.actor)}" for row in rows]


def summary(hotfix: HotfixRecord, follow_ups: Sequence[FollowUp]) -> str:
    """The closing comment, once every follow-up is done."""
    lines = [f"Every follow-up of hotfix #{hotfix.number} is done; closing this issue.", ""]
    lines.extend(follow_up_line(row) for row in follow_ups)
    return "\n".join(lines)
