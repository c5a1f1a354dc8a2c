"""Notices about GitHub audit-log events: overrides, protection changes, bypass teams."""

from __future__ import annotations

from collections.abc import Sequence

from app.notify.notices.model import (
    Notice,
    NoticeKind,
    Thread,
    _at,
    _audit_notice,
    _branch_fields,
    _pr_id,
    _team,
)

# --- audit-log notices (GitHub's own audit log) -----------------------------------------------
# Every event the app announces is posted when it arrives (key ``audit-log:<reference>``) and is
# the subject of its thread. A policy override also gets one conclusion, answered in that
# thread (key ``audit-outcome:<reference>``): confirmed by a hotfix, or a violation, never both.

_NOT_GIVEN = "not given"


def policy_override(
    *,
    repo: str,
    branch: str,
    actor: str,
    overridden: Sequence[str],
    reasons: Sequence[str],
    document_id: str,
    url: str | None = None,
) -> Notice:
    """Runbook step 9 reviews every admin action: an override is posted as it arrives, before
    anyone knows whether a hotfix is behind it. ``overridden`` are the protection rules it
    overrode (``required_status_checks``), ``reasons`` GitHub's messages about them."""
    checks = ", ".join(overridden) or _NOT_GIVEN
    fields = [*_branch_fields(repo, branch, actor), ("Overridden", checks)]
    if reasons:
        fields.append(("Reasons", "; ".join(reasons)))
    return _audit_notice(
        NoticeKind.POLICY_OVERRIDE,
        f"{_at(actor)} overrode branch protection on {repo} {branch} ({checks})",
        fields,
        document_id=document_id,
        url=url,
    )


def policy_override_confirmed(
    *,
    repo: str,
    branch: str,
    actor: str,
    number: int,
    incident_id: str | None,
    document_id: str,
    url: str | None = None,
) -> Notice:
    """The pull_request webhook cannot say a merge bypassed protection; the audit log can.
    Answers the override's own notice."""
    return _audit_notice(
        NoticeKind.POLICY_OVERRIDE_CONFIRMED,
        f"Override confirmed: the admin merge of PR #{number} "
        f"({incident_id or 'no incident id'}) on {repo} {branch}",
        [
            *_branch_fields(repo, branch, actor),
            ("Hotfix", _pr_id(repo, number)),
            ("Incident", incident_id or _NOT_GIVEN),
        ],
        document_id=document_id,
        url=url,
        thread=Thread.REPLY,
    )


def policy_override_unmatched(
    *,
    repo: str,
    branch: str,
    actor: str,
    window_minutes: int,
    document_id: str,
    url: str | None = None,
) -> Notice:
    """A branch-protection override with no hotfix behind it is a bypass outside the lane.
    Answers the override's own notice and is shown in the channel too: it is a violation."""
    return _audit_notice(
        NoticeKind.POLICY_OVERRIDE_UNMATCHED,
        f"no hotfix: {_at(actor)} overrode branch protection on {repo} {branch}, "
        "a bypass outside the hotfix lane "
        f"(no admin merge of a hotfix there within {window_minutes} minutes)",
        _branch_fields(repo, branch, actor),
        document_id=document_id,
        url=url,
        thread=Thread.REPLY_BROADCAST,
    )


def ruleset_bypass(
    *,
    repo: str,
    ruleset: str,
    ref: str,
    actor: str,
    document_id: str,
    url: str | None = None,
) -> Notice:
    """Rulesets are the newer branch protection; their bypasses belong in the same review."""
    return _audit_notice(
        NoticeKind.RULESET_BYPASS,
        f'{_at(actor)} bypassed ruleset "{ruleset}" on {repo} {ref}',
        [*_branch_fields(repo, ref, actor), ("Ruleset", ruleset)],
        document_id=document_id,
        url=url,
    )


def branch_protection_weakened(
    *,
    repo: str,
    branch: str,
    actor: str,
    changes: Sequence[str],
    document_id: str,
    url: str | None = None,
) -> Notice:
    """Weaker protection makes the next bypass invisible, so the change itself is announced.

    ``changes`` are short descriptions such as ``required approvals 1 -> 0``.
    """
    summary = "; ".join(changes) or "details not given"
    return _audit_notice(
        NoticeKind.BRANCH_PROTECTION_WEAKENED,
        f"{_at(actor)} weakened branch protection on {repo} {branch} ({summary})",
        [*_branch_fields(repo, branch, actor), ("Changes", summary)],
        document_id=document_id,
        url=url,
    )


def branch_protection_deleted(
    *, repo: str, branch: str, actor: str, document_id: str, url: str | None = None
) -> Notice:
    """Without protection every push is a bypass; the deletion is the event to review."""
    return _audit_notice(
        NoticeKind.BRANCH_PROTECTION_DELETED,
        f"{_at(actor)} deleted branch protection on {repo} {branch}",
        _branch_fields(repo, branch, actor),
        document_id=document_id,
        url=url,
    )


def bypass_team_member_added(
    *, org: str, team: str, member: str, actor: str, document_id: str, url: str | None = None
) -> Notice:
    """Runbook step 3: who is in the bypass team decides who can merge without review."""
    team_ref = _team(org, team)
    return _audit_notice(
        NoticeKind.BYPASS_TEAM_MEMBER_ADDED,
        f"{_at(actor)} added {_at(member)} to {team_ref}, the bypass team",
        [
            ("Organisation", org),
            ("Team", team_ref),
            ("Member", _at(member)),
            ("Added by", _at(actor)),
        ],
        document_id=document_id,
        url=url,
    )
