"""Notices about pull requests: decided at merge time, or when our status is overwritten."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from app.notify.notices.model import (
    _NOBODY,
    Notice,
    NoticeKind,
    _at,
    _at_or_nobody,
    _merge_fields,
    _notice,
    _org,
    _pr_id,
    _pr_notice,
    _pr_ref,
    _team,
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


def approver_not_confirmed(
    *, repo: str, number: int, title: str, merged_by: str, approver: str, url: str
) -> Notice:
    """Step 1: the approver agrees before the bypass; a name in a commit is not agreement."""
    return _pr_notice(
        NoticeKind.APPROVER_NOT_CONFIRMED,
        f"{_at(merged_by)} merged {_pr_ref(number, title)} without its named approver "
        f"{_at(approver)} confirming it (an approving review or /hotfix approve on the head)",
        [*_merge_fields(repo, merged_by), ("Approver", _at(approver))],
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


def check_run_spoofed(
    *, repo: str, sha: str, name: str, app: str | None, url: str | None = None
) -> Notice:
    """Only this App can write its own check run: another App's run of the same name on a
    head is someone trying to pass for it (a workflow, or a second App)."""
    writer = app or "an unknown App"
    return _notice(
        NoticeKind.CHECK_RUN_SPOOFED,
        f"A {name} check run on {repo}@{sha[:7]} was created by {writer}, not the hotfix-lane "
        "app; branch protection must require the hotfix-lane check run from this App",
        [
            ("Repository", repo),
            ("Commit", sha),
            ("Check run", f"{name} by {writer}"),
        ],
        # One notice per head and App, however often the run is listed or re-run.
        key=f"check-run-spoofed:{repo}@{sha}:{writer}",
        link=url,
    )


def policy_changed(
    *,
    repo: str,
    source: str,
    pushed_by: str | None,
    sha: str,
    changes: Sequence[str],
    ignored: Sequence[str],
    invalid: str | None = None,
    url: str | None = None,
) -> Notice:
    """A push changed a policy file: who, and which effective values moved (what a floor
    ignored, and a file that no longer loads, said too)."""
    who = _at(pushed_by) if pushed_by else "someone"
    if invalid is not None:
        summary = f"{who} pushed {source} and it no longer loads: {invalid}"
    elif changes:
        shown = "; ".join(changes[:8]) + (
            f"; and {len(changes) - 8} more" if len(changes) > 8 else ""
        )
        summary = f"{who} changed {source}: {shown}"
    else:
        summary = f"{who} pushed {source}; no effective value changed"
    fields = [("Repository", repo), ("File", source), ("Pushed by", who), ("Commit", sha)]
    if ignored:
        fields.append(("Ignored", "; ".join(ignored[:8])))
    return _notice(
        NoticeKind.POLICY_CHANGED,
        summary,
        fields,
        key=f"policy-changed:{source}@{sha}",
        link=url,
    )
