"""Notices of the incident loop: declared, merged, deployed, recovered or not, drilled.

Runbook step 1 declares the hotfix in the status channel before any code, naming the approver
and the cleanup owner; what happens to it next answers in that declaration's thread, so the
status channel reads one conversation per incident. ``subject`` is that thread's name
(``incident:<org>:<INC-id>``, made by ``app.ledger.incidents``): the builders take it ready
made, as this layer knows nothing of the ledger.

A hotfix that did not fix the symptom is also an audit matter (step 6: roll it back, do not
chain another): those notices go to the audit channel too, under the pull request's own
subject, so they answer its admin merge there.
"""

from __future__ import annotations

from app.notify.notices.model import (
    Field,
    Notice,
    NoticeKind,
    Thread,
    _at,
    _at_or_nobody,
    _notice,
    _pr_id,
    _pr_notice,
)

_NO_INCIDENT = "no incident id"
# The runbook: "Without an approver, the bypass buttons ... should NOT be used."
_NO_APPROVER = "NOT NAMED: do not use the bypass buttons until an approver is named"
_NO_CLEANUP_OWNER = "NOT NAMED: name who opens the cleanup PR within 24 hours"
ROLL_BACK = "roll back the hotfix (revert + sync); do not chain another hotfix"


def hotfix_declared(
    *,
    subject: str,
    incident_id: str | None,
    symptom: str,
    approver: str | None,
    cleanup_owner: str | None,
    repo: str,
    number: int,
    url: str,
) -> Notice:
    """Step 1: "DECLARING HOTFIX — INC-… P0", once per incident, in the status channel."""
    fields: list[Field] = [
        ("Symptom", symptom),
        ("Approver", _at(approver) if approver else _NO_APPROVER),
        ("Cleanup-owner", _at(cleanup_owner) if cleanup_owner else _NO_CLEANUP_OWNER),
        ("Repository", repo),
        ("Pull request", f"#{number} {url}"),
    ]
    return _notice(
        NoticeKind.HOTFIX_DECLARED,
        f"DECLARING HOTFIX — {incident_id or _NO_INCIDENT} P0",
        fields,
        key=f"declaration:{subject.removeprefix('incident:')}",
        link=url,
        subject=subject,
    )


def incident_merged(
    *,
    subject: str,
    incident_id: str | None,
    repo: str,
    number: int,
    merged_by: str,
    bypassed: bool,
    url: str,
) -> Notice:
    """Step 5: the hotfix is merged; next comes the sync."""
    how = "admin merge past branch protection" if bypassed else "merged through the lane"
    return _incident_reply(
        NoticeKind.INCIDENT_MERGED,
        f"Merged: {_ref(incident_id, repo, number)} by {_at(merged_by)} ({how})",
        [("Merged by", _at(merged_by))],
        subject=subject,
        repo=repo,
        number=number,
        url=url,
    )


def deployed(
    *,
    subject: str,
    incident_id: str | None,
    repo: str,
    number: int,
    environment: str,
    sha: str,
    minutes_after_merge: float,
    url: str,
) -> Notice:
    """Step 5: a deployment of the merge (or a later commit) succeeded: mitigation in flight."""
    return _incident_reply(
        NoticeKind.DEPLOYED,
        f"Deployed: {_ref(incident_id, repo, number)} is live in {environment}, "
        f"{_minutes(minutes_after_merge)} after the merge",
        [("Environment", environment), ("Commit", sha[:12])],
        subject=subject,
        repo=repo,
        number=number,
        url=url,
    )


def deployment_failed(
    *,
    subject: str,
    incident_id: str | None,
    repo: str,
    number: int,
    environment: str,
    state: str,
    description: str | None,
    deployment_status_id: int,
    url: str,
) -> Notice:
    """A deployment of the hotfix failed: the mitigation is not in flight."""
    fields: list[Field] = [("Environment", environment), ("State", state)]
    if description:
        fields.append(("Description", description))
    return _incident_reply(
        NoticeKind.DEPLOYMENT_FAILED,
        f"the deployment of {_ref(incident_id, repo, number)} to {environment} ended in {state}",
        fields,
        subject=subject,
        repo=repo,
        number=number,
        url=url,
        key_suffix=str(deployment_status_id),
        thread=Thread.REPLY_BROADCAST,
    )


def recovered(
    *,
    subject: str,
    incident_id: str | None,
    repo: str,
    number: int,
    value: str,
    comparison: str,
    threshold: str,
    url: str,
) -> Notice:
    """Step 6: the symptom metric crossed its threshold: the hotfix worked."""
    return _incident_reply(
        NoticeKind.RECOVERED,
        f"Recovered: {_ref(incident_id, repo, number)}: the symptom metric is {value} "
        f"({comparison} {threshold})",
        [("Value", value), ("Threshold", f"{comparison} {threshold}")],
        subject=subject,
        repo=repo,
        number=number,
        url=url,
    )


def not_recovered(
    *,
    subject: str | None,
    incident_id: str | None,
    repo: str,
    number: int,
    value: str | None,
    comparison: str,
    threshold: str,
    window_minutes: float,
    url: str,
) -> Notice:
    """Step 6: "If the symptom does NOT recover, the hotfix was wrong."

    With ``subject`` the reply in the incident's thread; without it the audit channel's notice,
    answering the pull request's admin merge and shown in the channel.
    """
    summary = f"{_ref(incident_id, repo, number)} did not recover: {ROLL_BACK}"
    fields: list[Field] = [
        ("Last value", value or "no data"),
        ("Threshold", f"{comparison} {threshold}"),
        ("Window", _minutes(window_minutes)),
    ]
    return _outcome(NoticeKind.NOT_RECOVERED, summary, fields, subject, repo, number, url)


def recovery_unverified(
    *,
    subject: str | None,
    incident_id: str | None,
    repo: str,
    number: int,
    reason: str,
    window_minutes: float,
    url: str,
) -> Notice:
    """Prometheus never answered usefully within the window: nobody knows whether it worked."""
    summary = (
        f"could not verify that {_ref(incident_id, repo, number)} recovered "
        f"within {_minutes(window_minutes)}: {reason}; check the symptom metric by hand"
    )
    return _outcome(
        NoticeKind.RECOVERY_UNVERIFIED, summary, [("Reason", reason)], subject, repo, number, url
    )


def drill_merged(
    *, repo: str, number: int, title: str, merged_by: str, incident_id: str | None, url: str
) -> Notice:
    """Every merged drill is announced in the audit channel: a drill is not counted by the
    rate limit, so code shipped as one must not go unseen."""
    return _pr_notice(
        NoticeKind.DRILL_MERGED,
        f"Drill merged: {repo} PR #{number} ({title}) by {_at(merged_by)}; "
        "not counted by the rate limit",
        [
            ("Incident", incident_id or _NO_INCIDENT),
            ("Merged by", _at_or_nobody(merged_by)),
        ],
        repo=repo,
        number=number,
        url=url,
    )


def _outcome(
    kind: NoticeKind,
    summary: str,
    fields: list[Field],
    subject: str | None,
    repo: str,
    number: int,
    url: str,
) -> Notice:
    if subject is not None:
        return _incident_reply(
            kind,
            summary,
            fields,
            subject=subject,
            repo=repo,
            number=number,
            url=url,
            thread=Thread.REPLY_BROADCAST,
        )
    return _pr_notice(
        kind, summary, fields, repo=repo, number=number, url=url, thread=Thread.REPLY_BROADCAST
    )


def _incident_reply(
    kind: NoticeKind,
    summary: str,
    fields: list[Field],
    *,
    subject: str,
    repo: str,
    number: int,
    url: str,
    key_suffix: str | None = None,
    thread: Thread = Thread.REPLY,
) -> Notice:
    """A reply in the incident's thread; keyed by the pull request (an incident may have a
    hotfix and its revert), so each happens once per hotfix."""
    key = f"{kind.value.replace('_', '-')}:{_pr_id(repo, number)}:status"
    if key_suffix is not None:
        key += f":{key_suffix}"
    return _notice(
        kind,
        summary,
        [*fields, ("Repository", repo)],
        key=key,
        link=url,
        subject=subject,
        thread=thread,
    )


def _ref(incident_id: str | None, repo: str, number: int) -> str:
    pr = _pr_id(repo, number)
    return f"{incident_id} ({pr})" if incident_id else pr


def _minutes(minutes: float) -> str:
    if minutes < 1:
        return f"{max(minutes * 60, 0):.0f} s"
    return f"{minutes:.0f} min" if minutes < 120 else f"{minutes / 60:.1f} h"
