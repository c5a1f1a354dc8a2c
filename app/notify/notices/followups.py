"""Notices about a merged hotfix's follow-ups: a reminder, overdue, done, all done.

They answer in the thread of the hotfix's first notice (its admin merge, as a rule), so each
hotfix reads as one conversation in the audit channel. Only an overdue follow-up is also
broadcast to the channel: the runbook wants it seen, not tucked away in a thread. Each text
still names the incident and the pull request, because a reply shows alone in notifications
and goes top level when the hotfix has no earlier notice.

``follow_up`` is the follow-up's name as the tracking issue writes it (``FollowUpKind.label``);
the key names its kind instead, so it stays free of spaces: one reminder, one overdue and one
done per follow-up.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from app.notify.notices.model import (
    Field,
    Notice,
    NoticeKind,
    Thread,
    _at,
    _pr_id,
    _pr_notice,
)
from app.rules.due_dates import FollowUpKind

# "cleanup PR" -> "cleanup-pr": the key carries the follow-up's stored kind, not its label.
_KEYS: Mapping[str, str] = {kind.label: kind.value for kind in FollowUpKind}

_NO_INCIDENT = "no incident named"
_NO_OWNER = "no owner named"


def follow_up_reminder(
    *,
    repo: str,
    number: int,
    incident_id: str | None,
    follow_up: str,
    owner: str | None,
    due_at: datetime,
    url: str,
) -> Notice:
    """Runbook steps 7-9 have deadlines (24 h, 48 h, a week): the owner hears before one passes."""
    hotfix = _Hotfix(repo, number, incident_id, url)
    return _deadline(NoticeKind.FOLLOW_UP_REMINDER, hotfix, follow_up, owner, due_at, "is due")


def follow_up_overdue(
    *,
    repo: str,
    number: int,
    incident_id: str | None,
    follow_up: str,
    owner: str | None,
    due_at: datetime,
    url: str,
) -> Notice:
    """A missed deadline: announced with the word OVERDUE, in the hotfix's thread and the
    channel alike, so the debt the runbook warns about cannot pile up unseen."""
    hotfix = _Hotfix(repo, number, incident_id, url)
    return _deadline(NoticeKind.FOLLOW_UP_OVERDUE, hotfix, follow_up, owner, due_at, "was due")


def follow_up_done(
    *,
    repo: str,
    number: int,
    incident_id: str | None,
    follow_up: str,
    done_by: str | None,
    evidence: str | None,
    url: str,
) -> Notice:
    """A follow-up closed (a cleanup PR merged, a postmortem linked, the audit reviewed).

    ``evidence`` is what closed it, such as the postmortem's URL; None when nothing is linked.
    """
    by = f", by {_at(done_by)}" if done_by else ""
    fields: list[Field] = [
        ("Incident", incident_id or _NO_INCIDENT),
        ("Follow-up", follow_up),
    ]
    if done_by:
        fields.append(("Done by", _at(done_by)))
    if evidence:
        fields.append(("Evidence", evidence))
    fields.append(("Hotfix", _pr_id(repo, number)))
    return _pr_notice(
        NoticeKind.FOLLOW_UP_DONE,
        f"{_what(repo, number, incident_id, follow_up)}{by}",
        fields,
        repo=repo,
        number=number,
        url=url,
        key_suffix=_key(follow_up),
        thread=Thread.REPLY,
    )


def follow_ups_complete(*, repo: str, number: int, incident_id: str | None, url: str) -> Notice:
    """Every follow-up is done and the tracking issue is closed: the hotfix is over."""
    incident = incident_id or _NO_INCIDENT
    return _pr_notice(
        NoticeKind.FOLLOW_UPS_COMPLETE,
        f"Every follow-up of {incident} ({_pr_id(repo, number)}) is done; "
        "the tracking issue is closed",
        [("Incident", incident), ("Hotfix", _pr_id(repo, number))],
        repo=repo,
        number=number,
        url=url,
        thread=Thread.REPLY,
    )


# --- helpers ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Hotfix:
    repo: str
    number: int
    incident_id: str | None
    url: str


# The thread each deadline notice goes to: a reminder is for the owner, overdue for everyone.
_DEADLINE_THREADS: Mapping[NoticeKind, Thread] = {
    NoticeKind.FOLLOW_UP_REMINDER: Thread.REPLY,
    NoticeKind.FOLLOW_UP_OVERDUE: Thread.REPLY_BROADCAST,
}


def _deadline(
    kind: NoticeKind,
    hotfix: _Hotfix,
    follow_up: str,
    owner: str | None,
    due_at: datetime,
    verb: str,
) -> Notice:
    """A reminder or an overdue notice: the follow-up, its due time and its owner."""
    repo, number, incident_id = hotfix.repo, hotfix.number, hotfix.incident_id
    due = _utc(due_at)
    return _pr_notice(
        kind,
        f"{_what(repo, number, incident_id, follow_up)} {verb} {due}; {_owner(owner)}",
        [
            ("Incident", incident_id or _NO_INCIDENT),
            ("Follow-up", follow_up),
            ("Owner", _at(owner) if owner else _NO_OWNER),
            ("Due", due),
            ("Hotfix", _pr_id(repo, number)),
        ],
        repo=repo,
        number=number,
        url=hotfix.url,
        key_suffix=_key(follow_up),
        thread=_DEADLINE_THREADS[kind],
    )


def _what(repo: str, number: int, incident_id: str | None, follow_up: str) -> str:
    # e.g. "the postmortem of INC-2026-05-20-001 (acme/api#4321)"
    return f"the {follow_up} of {incident_id or _NO_INCIDENT} ({_pr_id(repo, number)})"


def _owner(owner: str | None) -> str:
    return f"owner {_at(owner)}" if owner else _NO_OWNER


def _key(follow_up: str) -> str:
    try:
        return _KEYS[follow_up]
    except KeyError:
        raise ValueError(
            f"unknown follow-up {follow_up!r}; expected one of {', '.join(_KEYS)}"
        ) from None


def _utc(when: datetime) -> str:
    # A naive time would be read as the server's local time and shown hours off.
    if when.utcoffset() is None:
        raise ValueError(f"due time {when.isoformat()} has no time zone")
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
