"""Block Kit for an audit notice: a pure function from ``Notice`` to a chat.postMessage body.

Kept apart from sending so the exact message is tested without Slack.

PR titles, branch names and logins are written by users; in mrkdwn ``<``, ``>`` and ``&`` are
control characters (``<!channel>`` pings everyone, ``<url|label>`` disguises a link), so every
piece of text from a notice is escaped before it goes into a mrkdwn object, the top-level
``text`` included: Slack formats that as mrkdwn too.
"""

from __future__ import annotations

from typing import Any

from app.notify.notices import DRILL_PREFIX, Notice, NoticeKind

# Header blocks take plain text only, up to 150 characters; ours are fixed and short.
_TITLES: dict[NoticeKind, str] = {
    NoticeKind.ADMIN_MERGE: "Admin merge",
    NoticeKind.BYPASS_BY_NON_MEMBER: "Bypass by a non-member",
    NoticeKind.SCAN_BYPASSED: "Scan bypassed",
    NoticeKind.BYPASS_OUTSIDE_LANE: "Bypass outside the hotfix lane",
    NoticeKind.APPROVER_NOT_MERGER: "Merged by someone other than the approver",
    NoticeKind.APPROVER_NOT_CONFIRMED: "Merged without the approver's confirmation",
    NoticeKind.RATE_LIMIT_TRIPPED: "Hotfix rate limit reached",
    NoticeKind.AUTHOR_QUOTA_EXCEEDED: "Hotfix quota per author exceeded",
    NoticeKind.STATUS_SPOOFED: "Policy status set by someone else",
    NoticeKind.CHECK_RUN_SPOOFED: "hotfix-lane check run by another App",
    NoticeKind.POLICY_CHANGED: "Policy file changed",
    NoticeKind.POLICY_OVERRIDE: "Branch protection overridden",
    NoticeKind.POLICY_OVERRIDE_CONFIRMED: "Bypass confirmed by the audit log",
    NoticeKind.POLICY_OVERRIDE_UNMATCHED: "Bypass outside the hotfix lane (audit log)",
    NoticeKind.RULESET_BYPASS: "Ruleset bypassed",
    NoticeKind.BRANCH_PROTECTION_WEAKENED: "Branch protection weakened",
    NoticeKind.BRANCH_PROTECTION_DELETED: "Branch protection deleted",
    NoticeKind.BYPASS_TEAM_MEMBER_ADDED: "Member added to the bypass team",
    NoticeKind.FOLLOW_UP_REMINDER: "Follow-up due",
    NoticeKind.FOLLOW_UP_OVERDUE: "Follow-up overdue",
    NoticeKind.FOLLOW_UP_DONE: "Follow-up done",
    NoticeKind.FOLLOW_UPS_COMPLETE: "All follow-ups done",
    NoticeKind.HOTFIX_DECLARED: "Hotfix declared",
    NoticeKind.INCIDENT_MERGED: "Hotfix merged",
    NoticeKind.DEPLOYED: "Hotfix deployed",
    NoticeKind.DEPLOYMENT_FAILED: "Hotfix deployment failed",
    NoticeKind.RECOVERED: "Symptom recovered",
    NoticeKind.NOT_RECOVERED: "Symptom did not recover",
    NoticeKind.RECOVERY_UNVERIFIED: "Recovery not verified",
    NoticeKind.DRILL_MERGED: "Drill merged",
    NoticeKind.RUNBOOK_STALE: "Runbook not exercised",
    NoticeKind.WEEKLY_DIGEST: "Weekly hotfix digest",
}

# Slack's limits: a section's text up to 3,000 characters, each field up to 2,000 and at most
# 10 fields per section. Going over makes Slack reject the whole message (invalid_blocks).
_SECTION_CHARS = 3000
_FIELD_CHARS = 2000
_FIELDS_PER_SECTION = 10


def render(notice: Notice) -> dict[str, Any]:
    """The ``text`` and ``blocks`` arguments of chat.postMessage for ``notice``."""
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": title(notice)}},
        {"type": "section", "text": _mrkdwn(_clip(escape(notice.text), _SECTION_CHARS))},
    ]
    fields = [
        _mrkdwn(_clip(f"*{escape(label)}*\n{escape(value)}", _FIELD_CHARS))
        for label, value in notice.fields
    ]
    for start in range(0, len(fields), _FIELDS_PER_SECTION):
        blocks.append({"type": "section", "fields": fields[start : start + _FIELDS_PER_SECTION]})
    if notice.link:
        blocks.append(
            {"type": "context", "elements": [_mrkdwn(f"<{escape(notice.link)}|View on GitHub>")]}
        )
    return {"text": escape(notice.text), "blocks": blocks}


def title(notice: Notice) -> str:
    """The header: what happened, prefixed so a violation (or a drill) reads as one at a
    glance."""
    drill = DRILL_PREFIX if notice.text.startswith(DRILL_PREFIX) else ""
    if notice.security_event:
        prefix = "Security event: "
    elif notice.violation:
        prefix = "Violation: "
    else:
        prefix = ""
    return drill + prefix + _TITLES[notice.kind]


def escape(text: str) -> str:
    """Slack's three mrkdwn control characters as entities (``&`` first, or it eats the rest)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _mrkdwn(text: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": text}


def _clip(text: str, limit: int) -> str:
    """Shorten escaped text to ``limit`` characters without cutting an entity in half."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    return cut + "…"
