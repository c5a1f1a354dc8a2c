"""The notice itself: its kinds, which are violations, its stored form, and how it is put
together. The builders live beside this module, one module for each area they report on."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from app.rules.evaluate import DRILL_PREFIX as DRILL_PREFIX


class NoticeKind(StrEnum):
    """Every kind of audit notice; the value is stored in the outbox."""

    ADMIN_MERGE = "admin_merge"
    BYPASS_BY_NON_MEMBER = "bypass_by_non_member"
    SCAN_BYPASSED = "scan_bypassed"
    BYPASS_OUTSIDE_LANE = "bypass_outside_lane"
    APPROVER_NOT_MERGER = "approver_not_merger"
    APPROVER_NOT_CONFIRMED = "approver_not_confirmed"
    RATE_LIMIT_TRIPPED = "rate_limit_tripped"
    AUTHOR_QUOTA_EXCEEDED = "author_quota_exceeded"
    STATUS_SPOOFED = "status_spoofed"
    CHECK_RUN_SPOOFED = "check_run_spoofed"
    POLICY_CHANGED = "policy_changed"
    POLICY_OVERRIDE = "policy_override"
    POLICY_OVERRIDE_CONFIRMED = "policy_override_confirmed"
    POLICY_OVERRIDE_UNMATCHED = "policy_override_unmatched"
    RULESET_BYPASS = "ruleset_bypass"
    BRANCH_PROTECTION_WEAKENED = "branch_protection_weakened"
    BRANCH_PROTECTION_DELETED = "branch_protection_deleted"
    BYPASS_TEAM_MEMBER_ADDED = "bypass_team_member_added"
    FOLLOW_UP_REMINDER = "follow_up_reminder"
    FOLLOW_UP_OVERDUE = "follow_up_overdue"
    FOLLOW_UP_DONE = "follow_up_done"
    FOLLOW_UPS_COMPLETE = "follow_ups_complete"
    # The incident loop: declared in the status channel, then answered in its thread.
    HOTFIX_DECLARED = "hotfix_declared"
    INCIDENT_MERGED = "incident_merged"
    DEPLOYED = "deployed"
    DEPLOYMENT_FAILED = "deployment_failed"
    RECOVERED = "recovered"
    NOT_RECOVERED = "not_recovered"
    RECOVERY_UNVERIFIED = "recovery_unverified"
    DRILL_MERGED = "drill_merged"
    RUNBOOK_STALE = "runbook_stale"
    WEEKLY_DIGEST = "weekly_digest"


class Thread(StrEnum):
    """Where a notice goes in the channel; the value is stored in the outbox.

    A reply goes into the thread of the earliest notice with the same subject in the same
    channel, so a hotfix's story (merge, reminders, done, overdue) reads as one conversation.
    """

    TOP = "top"  # a message of its own
    REPLY = "reply"  # in the thread only
    REPLY_BROADCAST = "reply_broadcast"  # in the thread, and shown in the channel too


# The footgun "I bypassed scan because it failed": shipping past the scan is a security event,
# and so is writing the app's own status, which exists to gate the merge.
SECURITY_EVENTS = frozenset(
    {NoticeKind.SCAN_BYPASSED, NoticeKind.STATUS_SPOOFED, NoticeKind.CHECK_RUN_SPOOFED}
)

VIOLATIONS = SECURITY_EVENTS | {
    NoticeKind.BYPASS_BY_NON_MEMBER,
    NoticeKind.BYPASS_OUTSIDE_LANE,
    NoticeKind.APPROVER_NOT_MERGER,
    NoticeKind.APPROVER_NOT_CONFIRMED,
    NoticeKind.POLICY_OVERRIDE_UNMATCHED,
}

# The first words of the plain-text line, so a violation stands out in notifications and search.
_MARKERS: Mapping[NoticeKind, str] = {
    **{kind: "VIOLATION: " for kind in VIOLATIONS},
    **{kind: "SECURITY EVENT: " for kind in SECURITY_EVENTS},
    NoticeKind.RATE_LIMIT_TRIPPED: "RATE LIMIT: ",
    NoticeKind.AUTHOR_QUOTA_EXCEEDED: "CODE YELLOW: ",
    NoticeKind.POLICY_CHANGED: "Policy changed: ",
    NoticeKind.POLICY_OVERRIDE: "Audit log: ",
    NoticeKind.RULESET_BYPASS: "Audit log: ",
    NoticeKind.BRANCH_PROTECTION_WEAKENED: "Audit log: ",
    NoticeKind.BRANCH_PROTECTION_DELETED: "Audit log: ",
    NoticeKind.BYPASS_TEAM_MEMBER_ADDED: "Audit log: ",
    NoticeKind.FOLLOW_UP_REMINDER: "Reminder: ",
    # The runbook: an overdue follow-up is announced with the word OVERDUE.
    NoticeKind.FOLLOW_UP_OVERDUE: "OVERDUE: ",
    NoticeKind.FOLLOW_UP_DONE: "Done: ",
    NoticeKind.DEPLOYMENT_FAILED: "DEPLOYMENT FAILED: ",
    # The runbook, step 6: a hotfix that did not fix the symptom is rolled back.
    NoticeKind.NOT_RECOVERED: "NOT RECOVERED: ",
    NoticeKind.RECOVERY_UNVERIFIED: "UNVERIFIED: ",
    NoticeKind.RUNBOOK_STALE: "RUNBOOK STALE: ",
}

# What starts every notice about a game-day drill, before any marker: the same marker the
# drill's status and check run carry (``app.rules.evaluate``).

_NOBODY = "not named"

Field = tuple[str, str]


@dataclass(frozen=True)
class Notice:
    """One message for the audit channel, as stored in the outbox and handed to a notifier.

    ``text`` is a single plain-text line: Slack shows it in notifications and as the fallback
    for clients without Block Kit, so it must make sense on its own. ``fields`` are the labelled
    details shown under it; ``link`` points at the pull request or audit event.

    ``subject`` names what the notice is about: a hotfix (``owner/repo#number``), an audit-log
    event (``audit:<reference>``), or None; ``thread`` says whether it starts a message of its
    own or answers the thread of the earliest notice with the same subject (see ``Thread``).
    """

    kind: NoticeKind
    violation: bool
    text: str
    fields: tuple[Field, ...]
    link: str | None
    idempotency_key: str
    subject: str | None = None
    thread: Thread = Thread.TOP

    @property
    def security_event(self) -> bool:
        return self.kind in SECURITY_EVENTS

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form for the outbox row."""
        return {
            "kind": self.kind.value,
            "violation": self.violation,
            "text": self.text,
            "fields": [list(field) for field in self.fields],
            "link": self.link,
            "idempotency_key": self.idempotency_key,
            "subject": self.subject,
            "thread": self.thread.value,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Notice:
        """Rebuild a notice stored with ``to_dict`` (JSON turns the field pairs into lists).

        Notices stored before threading existed have no ``subject`` or ``thread``: they were
        top-level messages about nothing in particular, and read back as such.
        """
        return cls(
            kind=NoticeKind(data["kind"]),
            violation=bool(data["violation"]),
            text=str(data["text"]),
            fields=tuple((str(label), str(value)) for label, value in data["fields"]),
            link=data.get("link"),
            idempotency_key=str(data["idempotency_key"]),
            subject=data.get("subject"),
            thread=Thread(data.get("thread") or Thread.TOP),
        )


def as_drill(notice: Notice) -> Notice:
    """The notice of a game-day drill: its text starts with ``[DRILL]``, before any marker,
    so an exercise is never read as a live incident or a real violation."""
    if notice.text.startswith(DRILL_PREFIX):
        return notice
    return dataclasses.replace(notice, text=DRILL_PREFIX + notice.text)


def drilled(notice: Notice, drill: bool) -> Notice:
    """``notice``, marked as a drill's when ``drill``."""
    return as_drill(notice) if drill else notice


# What starts every notice of a repository in report mode (``mode: report``).
REPORT_PREFIX = "[REPORT ONLY] "


def reported(notice: Notice, report_only: bool) -> Notice:
    """``notice``, marked as report-only when its policy does not enforce yet."""
    if not report_only or notice.text.startswith(REPORT_PREFIX):
        return notice
    return dataclasses.replace(notice, text=REPORT_PREFIX + notice.text)


# --- helpers ----------------------------------------------------------------------------------


def _notice(
    kind: NoticeKind,
    summary: str,
    fields: Iterable[Field],
    *,
    key: str,
    link: str | None,
    subject: str | None = None,
    thread: Thread = Thread.TOP,
) -> Notice:
    """Assemble a notice; the kind alone decides whether it is a violation and its marker."""
    return Notice(
        kind=kind,
        violation=kind in VIOLATIONS,
        text=_MARKERS.get(kind, "") + _one_line(summary),
        fields=tuple((label, _one_line(value)) for label, value in fields),
        link=link,
        idempotency_key=key,
        subject=subject,
        thread=thread,
    )


def _pr_notice(
    kind: NoticeKind,
    summary: str,
    fields: Iterable[Field],
    *,
    repo: str,
    number: int,
    url: str,
    key_suffix: str | None = None,
    thread: Thread = Thread.TOP,
) -> Notice:
    """A notice about one pull request: it is the subject, and keys the notice."""
    subject = _pr_id(repo, number)
    # e.g. admin-merge:acme/api#4321, follow-up-done:acme/api#4321:postmortem
    key = f"{kind.value.replace('_', '-')}:{subject}"
    if key_suffix is not None:
        key += f":{key_suffix}"
    return _notice(kind, summary, fields, key=key, link=url, subject=subject, thread=thread)


def _audit_notice(
    kind: NoticeKind,
    summary: str,
    fields: Iterable[Field],
    *,
    document_id: str,
    url: str | None,
    thread: Thread = Thread.TOP,
) -> Notice:
    """A notice about one audit-log event: the event is its subject. The event's own notice
    starts the thread (key ``audit-log:<reference>``); what the app later concludes about it
    answers there (``thread``, key ``audit-outcome:<reference>``)."""
    key = audit_key(document_id) if thread is Thread.TOP else audit_outcome_key(document_id)
    return _notice(
        kind,
        summary,
        [*fields, ("Audit event", document_id)],
        key=key,
        link=url,
        subject=f"audit:{document_id}",
        thread=thread,
    )


def audit_key(reference: str) -> str:
    """The outbox key of an audit-log event's own notice, posted when the event arrives."""
    return f"audit-log:{reference}"


def audit_outcome_key(reference: str) -> str:
    """The outbox key of the one conclusion about an audit-log event (a policy override is
    confirmed by a hotfix or is a violation): unique in the outbox, so never both."""
    return f"audit-outcome:{reference}"


def _merge_fields(repo: str, merged_by: str) -> list[Field]:
    return [("Repository", repo), ("Merged by", _at(merged_by))]


def _branch_fields(repo: str, branch: str, actor: str) -> list[Field]:
    return [("Repository", repo), ("Branch", branch), ("Actor", _at(actor))]


def _pr_ref(number: int, title: str) -> str:
    return f"PR #{number} ({title})"


def _pr_id(repo: str, number: int) -> str:
    return f"{repo}#{number}"


def _org(repo: str) -> str:
    return repo.split("/", 1)[0]


def _at(login: str) -> str:
    return "@" + login.removeprefix("@")


def _at_or_nobody(login: str | None) -> str:
    return _at(login) if login else _NOBODY


def _team(repo_or_org: str, team: str) -> str:
    """GitHub's team mention, ``@org/slug``, from a slug given with or without its org."""
    slug = team.removeprefix("@").rsplit("/", 1)[-1]
    return f"@{_org(repo_or_org)}/{slug}"


def _one_line(text: str) -> str:
    # The fallback text is one line; PR titles and audit fields can carry stray newlines/tabs.
    return " ".join(text.split())
