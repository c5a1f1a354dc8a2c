"""Audit notices: what the app tells the audit channel, built as plain values.

Runbook step 5 and step 9: every admin merge and every admin action posts to the audit channel,
and a platform-team member reviews them within a week. A notice is decided and worded here,
without I/O, so the outbox can store it before anything is sent and tests can pin its exact
text (STYLE.md point 3). Rendering to Block Kit lives in ``blocks.py``; sending in ``slack.py``.

Every builder takes keyword-only arguments and derives the idempotency key from its inputs
alone, so re-processing the same merge or audit event yields the same key and the outbox can
refuse a second copy. Keys never contain titles or other free text: they must stay short
(the job table's key column is 255 characters) and stable when a title is edited.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class NoticeKind(StrEnum):
    """Every kind of audit notice; the value is stored in the outbox."""

    ADMIN_MERGE = "admin_merge"
    BYPASS_BY_NON_MEMBER = "bypass_by_non_member"
    SCAN_BYPASSED = "scan_bypassed"
    BYPASS_OUTSIDE_LANE = "bypass_outside_lane"
    APPROVER_NOT_MERGER = "approver_not_merger"
    RATE_LIMIT_TRIPPED = "rate_limit_tripped"
    AUTHOR_QUOTA_EXCEEDED = "author_quota_exceeded"
    STATUS_SPOOFED = "status_spoofed"
    POLICY_OVERRIDE_CONFIRMED = "policy_override_confirmed"
    POLICY_OVERRIDE_UNMATCHED = "policy_override_unmatched"
    RULESET_BYPASS = "ruleset_bypass"
    BRANCH_PROTECTION_WEAKENED = "branch_protection_weakened"
    BRANCH_PROTECTION_DELETED = "branch_protection_deleted"
    BYPASS_TEAM_MEMBER_ADDED = "bypass_team_member_added"


# The footgun "I bypassed scan because it failed": shipping past the scan is a security event,
# and so is writing the app's own status, which exists to gate the merge.
SECURITY_EVENTS = frozenset({NoticeKind.SCAN_BYPASSED, NoticeKind.STATUS_SPOOFED})

VIOLATIONS = SECURITY_EVENTS | {
    NoticeKind.BYPASS_BY_NON_MEMBER,
    NoticeKind.BYPASS_OUTSIDE_LANE,
    NoticeKind.APPROVER_NOT_MERGER,
    NoticeKind.POLICY_OVERRIDE_UNMATCHED,
}

# The first words of the plain-text line, so a violation stands out in notifications and search.
_MARKERS: Mapping[NoticeKind, str] = {
    **{kind: "VIOLATION: " for kind in VIOLATIONS},
    **{kind: "SECURITY EVENT: " for kind in SECURITY_EVENTS},
    NoticeKind.RATE_LIMIT_TRIPPED: "RATE LIMIT: ",
    NoticeKind.AUTHOR_QUOTA_EXCEEDED: "CODE YELLOW: ",
    NoticeKind.RULESET_BYPASS: "Audit log: ",
    NoticeKind.BRANCH_PROTECTION_WEAKENED: "Audit log: ",
    NoticeKind.BRANCH_PROTECTION_DELETED: "Audit log: ",
    NoticeKind.BYPASS_TEAM_MEMBER_ADDED: "Audit log: ",
}

_NOBODY = "not named"

Field = tuple[str, str]


@dataclass(frozen=True)
class Notice:
    """One message for the audit channel, as stored in the outbox and handed to a notifier.

    ``text`` is a single plain-text line: Slack shows it in notifications and as the fallback
    for clients without Block Kit, so it must make sense on its own. ``fields`` are the labelled
    details shown under it; ``link`` points at the pull request or audit event.
    """

    kind: NoticeKind
    violation: bool
    text: str
    fields: tuple[Field, ...]
    link: str | None
    idempotency_key: str

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
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Notice:
        """Rebuild a notice stored with ``to_dict`` (JSON turns the field pairs into lists)."""
        return cls(
            kind=NoticeKind(data["kind"]),
            violation=bool(data["violation"]),
            text=str(data["text"]),
            fields=tuple((str(label), str(value)) for label, value in data["fields"]),
            link=data.get("link"),
            idempotency_key=str(data["idempotency_key"]),
        )


# --- pull-request notices (decided at merge time) ---------------------------------------------


def admin_merge(
    *,
    repo: str,
    number: int,
    title: str,
    merged_by: str,
    incident_id: str | None,
    approver: str | None,
    cleanup_owner: str | None,
    url: str,
) -> Notice:
    """Runbook step 5: the admin merge of a hotfix, announced for the step-9 audit review."""
    return _pr_notice(
        NoticeKind.ADMIN_MERGE,
        f"{_at(merged_by)} merged {_pr_ref(number, title)} via admin bypass",
        [
            ("Incident", incident_id or _NOBODY),
            ("Approver", _at_or_nobody(approver)),
            ("Cleanup owner", _at_or_nobody(cleanup_owner)),
            ("Repository", repo),
        ],
        repo=repo,
        number=number,
        url=url,
    )


def bypass_by_non_member(
    *, repo: str, number: int, title: str, merged_by: str, bypass_team: str, url: str
) -> Notice:
    """Runbook step 3: only the bypass team may merge without review."""
    team = _team(repo, bypass_team)
    return _pr_notice(
        NoticeKind.BYPASS_BY_NON_MEMBER,
        f"{_at(merged_by)} merged {_pr_ref(number, title)} via admin bypass "
        f"but is not a member of {team}, the bypass team",
        [*_merge_fields(repo, merged_by), ("Bypass team", team)],
        repo=repo,
        number=number,
        url=url,
    )


def scan_bypassed(
    *,
    repo: str,
    number: int,
    title: str,
    merged_by: str,
    scans: Mapping[str, str | None],
    url: str,
) -> Notice:
    """The footgun "I bypassed scan": a merge without a passing scan is a security event.

    ``scans`` maps each scan check on the merged head to its conclusion (``None`` while it had
    not finished); an empty mapping means no scan check ran at all.
    """
    results = (
        ", ".join(f"{name}: {conclusion or 'not finished'}" for name, conclusion in scans.items())
        or "no scan check ran"
    )
    return _pr_notice(
        NoticeKind.SCAN_BYPASSED,
        f"{_at(merged_by)} merged {_pr_ref(number, title)} without a passing scan ({results})",
        [*_merge_fields(repo, merged_by), ("Scan", results)],
        repo=repo,
        number=number,
        url=url,
    )


def bypass_outside_lane(*, repo: str, number: int, title: str, merged_by: str, url: str) -> Notice:
    """Branch protection may be bypassed for hotfixes only; anything else skipped review."""
    return _pr_notice(
        NoticeKind.BYPASS_OUTSIDE_LANE,
        f"{_at(merged_by)} merged {_pr_ref(number, title)} via admin bypass "
        "but it is not in the hotfix lane",
        _merge_fields(repo, merged_by),
        repo=repo,
        number=number,
        url=url,
    )


def approver_not_merger(
    *, repo: str, number: int, title: str, merged_by: str, approver: str | None, url: str
) -> Notice:
    """When the policy says the approver merges, anyone else merging is the step-9 finding."""
    return _pr_notice(
        NoticeKind.APPROVER_NOT_MERGER,
        f"{_at(merged_by)} merged {_pr_ref(number, title)}, "
        f"but the policy says its approver ({_at_or_nobody(approver)}) merges",
        [*_merge_fields(repo, merged_by), ("Approver", _at_or_nobody(approver))],
        repo=repo,
        number=number,
        url=url,
    )


def rate_limit_tripped(
    *,
    repo: str,
    number: int,
    count: int,
    limit: int,
    window_days: int,
    review_team: str,
    url: str,
) -> Notice:
    """Footgun "the hotfix became normal": past the limit, a team review comes first."""
    org = _org(repo)
    team = _team(repo, review_team)
    return _pr_notice(
        NoticeKind.RATE_LIMIT_TRIPPED,
        f"{count} hotfixes merged in {org} in the last {window_days} days (limit {limit}); "
        f"PR #{number} in {repo} needs a review by {team} before it merges",
        [
            ("Organisation", org),
            ("Hotfixes", f"{count} in {window_days} days (limit {limit})"),
            ("Pull request", _pr_id(repo, number)),
            ("Review team", team),
        ],
        repo=repo,
        number=number,
        url=url,
    )


def author_quota_exceeded(
    *,
    repo: str,
    number: int,
    author: str,
    count: int,
    quota: int,
    quarter: str,
    review_team: str,
    url: str,
) -> Notice:
    """Footgun "the hotfix became normal": more than ``quota`` per author per quarter.

    ``quarter`` is the calendar quarter as ``YYYY-Qn``; ``number`` is the hotfix that crossed
    the quota, which keys the notice so each such hotfix is announced once.
    """
    team = _team(repo, review_team)
    return _pr_notice(
        NoticeKind.AUTHOR_QUOTA_EXCEEDED,
        f"{_at(author)} has merged {count} hotfixes in {quarter}, more than {quota} a quarter; "
        f"{team} to hold a code-yellow conversation",
        [
            ("Author", _at(author)),
            ("Quarter", quarter),
            ("Hotfixes", f"{count} (quota {quota})"),
            ("Latest hotfix", _pr_id(repo, number)),
        ],
        repo=repo,
        number=number,
        url=url,
    )


def status_spoofed(
    *,
    repo: str,
    sha: str,
    context: str,
    state: str,
    set_by: str | None,
    status_id: int,
    url: str | None = None,
) -> Notice:
    """Anyone with write access can set a commit status; only this app may set its own."""
    setter = _at(set_by) if set_by else "an unknown account"
    return _notice(
        NoticeKind.STATUS_SPOOFED,
        f"The {context} status on {repo}@{sha[:7]} was set to {state} by {setter}; "
        "only the hotfix-lane app may set it",
        [
            ("Repository", repo),
            ("Commit", sha),
            ("Status", f"{context}: {state}"),
            ("Set by", setter),
        ],
        key=f"status-spoofed:{repo}:{status_id}",
        link=url,
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


# --- helpers ----------------------------------------------------------------------------------


def _notice(
    kind: NoticeKind, summary: str, fields: Iterable[Field], *, key: str, link: str | None
) -> Notice:
    """Assemble a notice; the kind alone decides whether it is a violation and its marker."""
    return Notice(
        kind=kind,
        violation=kind in VIOLATIONS,
        text=_MARKERS.get(kind, "") + _one_line(summary),
        fields=tuple((label, _one_line(value)) for label, value in fields),
        link=link,
        idempotency_key=key,
    )


def _pr_notice(
    kind: NoticeKind, summary: str, fields: Iterable[Field], *, repo: str, number: int, url: str
) -> Notice:
    # e.g. admin-merge:acme/api#4321
    key = f"{kind.value.replace('_', '-')}:{_pr_id(repo, number)}"
    return _notice(kind, summary, fields, key=key, link=url)


def _audit_notice(
    kind: NoticeKind,
    summary: str,
    fields: Iterable[Field],
    *,
    document_id: str,
    url: str | None,
) -> Notice:
    return _notice(
        kind,
        summary,
        [*fields, ("Audit event", document_id)],
        key=f"audit-log:{document_id}",
        link=url,
    )


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
