"""Notices about GitHub audit-log events: overrides, protection changes, bypass teams."""

from __future__ import annotations

from collections.abc import Sequence

from app.notify.notices.model import (
    Notice,
    NoticeKind,
    _at,
    _audit_notice,
    _branch_fields,
    _pr_id,
    _team,
)

# --- audit-log notices (GitHub's own audit log) -----------------------------------------------
# All of them key on the audit document id: one audit event, one notice, whichever kind the
# handler decided it was (a policy override is either confirmed or unmatched, never both).


def policy_override_confirmed(
    *,
    repo: str,
    branch: str,
    actor: str,
    number: int,
    document_id: str,
    url: str | None = None,
) -> Notice:
    """The pull_request webhook cannot say a merge bypassed protection; the audit log can."""
    return _audit_notice(
        NoticeKind.POLICY_OVERRIDE_CONFIRMED,
        f"Bypass confirmed by the audit log: {_at(actor)} overrode branch protection "
        f"on {repo} {branch} for hotfix PR #{number}",
        [*_branch_fields(repo, branch, actor), ("Hotfix", _pr_id(repo, number))],
        document_id=document_id,
        url=url,
        subject=_pr_id(repo, number),
    )


def policy_override_unmatched(
    *, repo: str, branch: str, actor: str, document_id: str, url: str | None = None
) -> Notice:
    """A branch-protection override with no hotfix behind it is a bypass outside the lane."""
    return _audit_notice(
        NoticeKind.POLICY_OVERRIDE_UNMATCHED,
        f"{_at(actor)} overrode branch protection on {repo} {branch} "
        "and no hotfix matches it (bypass outside the hotfix lane)",
        _branch_fields(repo, branch, actor),
        document_id=document_id,
        url=url,
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
