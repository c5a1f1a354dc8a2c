"""Which audit notices a merge calls for. Pure: ``merge.record_merge`` gathers, this decides.

The judgement (``app.rules.merge``) says what happened; this turns it into the notices the
audit channel gets, worded by ``app.notify.notices``, so it sits above both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypedDict

from app.notify import notices
from app.notify.notices import Notice
from app.policy.model import Policy
from app.rules.merge import PASSED, MergeFindings
from app.rules.model import Lane


@dataclass(frozen=True)
class Merge:
    """One merged pull request, as the notices name it."""

    repo: str
    number: int
    title: str
    url: str
    lane: Lane
    merged_by: str
    merged_by_in_bypass_team: bool
    incident_id: str | None
    approver: str | None
    cleanup_owner: str | None
    author: str
    author_this_quarter: int  # including this merge
    quarter: str


class _PullRef(TypedDict):
    repo: str
    number: int
    title: str
    url: str


def merge_notices(merge: Merge, findings: MergeFindings, policy: Policy) -> list[Notice]:
    """Runbook steps 3, 5 and 9: announce admin merges, flag what broke the rules."""
    pr = _PullRef(repo=merge.repo, number=merge.number, title=merge.title, url=merge.url)
    found: list[Notice] = []
    if findings.bypassed:
        if merge.lane is not Lane.HOTFIX:
            found.append(notices.bypass_outside_lane(merged_by=merge.merged_by, **pr))
        elif not merge.merged_by_in_bypass_team:
            found.append(
                notices.bypass_by_non_member(
                    merged_by=merge.merged_by, bypass_team=policy.teams.bypass, **pr
                )
            )
        else:
            found.append(
                notices.admin_merge(
                    merged_by=merge.merged_by,
                    incident_id=merge.incident_id,
                    approver=merge.approver,
                    cleanup_owner=merge.cleanup_owner,
                    **pr,
                )
            )
    if merge.lane is Lane.HOTFIX:
        # "The fast-path NEVER skips scan": whoever merged, and bypass or not.
        if findings.scan_state != PASSED:
            found.append(
                notices.scan_bypassed(
                    merged_by=merge.merged_by, scans=dict(findings.scan_results), **pr
                )
            )
        if findings.approver_confirmed is False and merge.approver is not None:
            found.append(
                notices.approver_not_confirmed(
                    merged_by=merge.merged_by, approver=merge.approver, **pr
                )
            )
        if policy.audit.approver_merges and (merge.approver or "") != merge.merged_by.lower():
            found.append(
                notices.approver_not_merger(
                    merged_by=merge.merged_by, approver=merge.approver, **pr
                )
            )
        if merge.author_this_quarter > policy.author_quota.code_yellow_after:
            found.append(
                notices.author_quota_exceeded(
                    repo=merge.repo,
                    number=merge.number,
                    author=merge.author,
                    count=merge.author_this_quarter,
                    quota=policy.author_quota.code_yellow_after,
                    quarter=merge.quarter,
                    review_team=policy.teams.review,
                    url=merge.url,
                )
            )
    return found
