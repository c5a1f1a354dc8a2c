"""The incident loop's notices: the declaration and what answers it, word for word."""

from __future__ import annotations

from typing import TypedDict

import pytest

from app.notify import notices
from app.notify.notices import Notice, NoticeKind, Thread

REPO = "acme/bookstore-platform"
URL = f"https://github.com/{REPO}/pull/4321"
INCIDENT = "INC-2026-05-20-001"
SUBJECT = f"incident:acme:{INCIDENT}"


class HotfixFields(TypedDict):
    subject: str
    incident_id: str | None
    repo: str
    number: int
    url: str


HOTFIX = HotfixFields(subject=SUBJECT, incident_id=INCIDENT, repo=REPO, number=4321, url=URL)


def reply(
    kind: NoticeKind,
    text: str,
    fields: list[tuple[str, str]],
    key: str,
    *,
    thread: Thread = Thread.REPLY,
    subject: str = SUBJECT,
) -> Notice:
    return Notice(
        kind=kind,
        violation=False,
        text=text,
        fields=(*fields, ("Repository", REPO)),
        link=URL,
        idempotency_key=key,
        subject=subject,
        thread=thread,
    )


CASES = [
    pytest.param(
        notices.hotfix_declared(
            subject=SUBJECT,
            incident_id=INCIDENT,
            symptom="catalog nil-deref on missing tenant header",
            approver="alice",
            cleanup_owner="bob",
            repo=REPO,
            number=4321,
            url=URL,
        ),
        Notice(
            kind=NoticeKind.HOTFIX_DECLARED,
            violation=False,
            text=f"DECLARING HOTFIX — {INCIDENT} P0",
            fields=(
                ("Symptom", "catalog nil-deref on missing tenant header"),
                ("Approver", "@alice"),
                ("Cleanup-owner", "@bob"),
                ("Repository", REPO),
                ("Pull request", f"#4321 {URL}"),
            ),
            link=URL,
            idempotency_key=f"declaration:acme:{INCIDENT}",
            subject=SUBJECT,
        ),
        id="the declaration names the symptom, approver and cleanup owner",
    ),
    pytest.param(
        notices.hotfix_declared(
            subject="incident:acme/bookstore-platform#7",
            incident_id=None,
            symptom="checkout 500s",
            approver=None,
            cleanup_owner=None,
            repo=REPO,
            number=7,
            url=URL,
        ),
        Notice(
            kind=NoticeKind.HOTFIX_DECLARED,
            violation=False,
            text="DECLARING HOTFIX — no incident id P0",
            fields=(
                ("Symptom", "checkout 500s"),
                ("Approver", "NOT NAMED: do not use the bypass buttons until an approver is named"),
                ("Cleanup-owner", "NOT NAMED: name who opens the cleanup PR within 24 hours"),
                ("Repository", REPO),
                ("Pull request", f"#7 {URL}"),
            ),
            link=URL,
            idempotency_key="declaration:acme/bookstore-platform#7",
            subject="incident:acme/bookstore-platform#7",
        ),
        id="a declaration without an approver says the bypass buttons stay unused",
    ),
    pytest.param(
        notices.incident_merged(**HOTFIX, merged_by="carol", bypassed=True),
        reply(
            NoticeKind.INCIDENT_MERGED,
            f"Merged: {INCIDENT} ({REPO}#4321) by @carol (admin merge past branch protection)",
            [("Merged by", "@carol")],
            f"incident-merged:{REPO}#4321:status",
        ),
        id="the merge answers the declaration",
    ),
    pytest.param(
        notices.deployed(
            **HOTFIX, environment="production", sha="9a8b7c6d5e4f3021", minutes_after_merge=6.4
        ),
        reply(
            NoticeKind.DEPLOYED,
            f"Deployed: {INCIDENT} ({REPO}#4321) is live in production, 6 min after the merge",
            [("Environment", "production"), ("Commit", "9a8b7c6d5e4f")],
            f"deployed:{REPO}#4321:status",
        ),
        id="a successful deployment says how long after the merge",
    ),
    pytest.param(
        notices.deployment_failed(
            **HOTFIX,
            environment="production",
            state="failure",
            description="sync failed: ImagePullBackOff",
            deployment_status_id=55,
        ),
        reply(
            NoticeKind.DEPLOYMENT_FAILED,
            f"DEPLOYMENT FAILED: the deployment of {INCIDENT} ({REPO}#4321) to production "
            "ended in failure",
            [
                ("Environment", "production"),
                ("State", "failure"),
                ("Description", "sync failed: ImagePullBackOff"),
            ],
            f"deployment-failed:{REPO}#4321:status:55",
            thread=Thread.REPLY_BROADCAST,
        ),
        id="a failed deployment is broadcast from the incident's thread",
    ),
    pytest.param(
        notices.recovered(**HOTFIX, value="0.004", comparison="<", threshold="0.01"),
        reply(
            NoticeKind.RECOVERED,
            f"Recovered: {INCIDENT} ({REPO}#4321): the symptom metric is 0.004 (< 0.01)",
            [("Value", "0.004"), ("Threshold", "< 0.01")],
            f"recovered:{REPO}#4321:status",
        ),
        id="recovery answers the declaration",
    ),
    pytest.param(
        notices.not_recovered(
            subject=None,
            incident_id=INCIDENT,
            repo=REPO,
            number=4321,
            url=URL,
            value="0.2",
            comparison="<",
            threshold="0.01",
            window_minutes=15,
        ),
        Notice(
            kind=NoticeKind.NOT_RECOVERED,
            violation=False,
            text=f"NOT RECOVERED: {INCIDENT} ({REPO}#4321) did not recover: roll back the "
            "hotfix (revert + sync); do not chain another hotfix",
            fields=(("Last value", "0.2"), ("Threshold", "< 0.01"), ("Window", "15 min")),
            link=URL,
            idempotency_key=f"not-recovered:{REPO}#4321",
            subject=f"{REPO}#4321",
            thread=Thread.REPLY_BROADCAST,
        ),
        id="the audit channel hears that the hotfix did not fix the symptom",
    ),
    pytest.param(
        notices.recovery_unverified(
            **HOTFIX, reason="Prometheus answered HTTP 503", window_minutes=0.5
        ),
        reply(
            NoticeKind.RECOVERY_UNVERIFIED,
            f"UNVERIFIED: could not verify that {INCIDENT} ({REPO}#4321) recovered within "
            "30 s: Prometheus answered HTTP 503; check the symptom metric by hand",
            [("Reason", "Prometheus answered HTTP 503")],
            f"recovery-unverified:{REPO}#4321:status",
            thread=Thread.REPLY_BROADCAST,
        ),
        id="an unanswered verification is said plainly",
    ),
    pytest.param(
        notices.drill_merged(
            repo=REPO,
            number=4321,
            title="DRILL: INC-2026-05-20-001 game day",
            merged_by="carol",
            incident_id=INCIDENT,
            url=URL,
        ),
        Notice(
            kind=NoticeKind.DRILL_MERGED,
            violation=False,
            text=f"Drill merged: {REPO} PR #4321 (DRILL: INC-2026-05-20-001 game day) by "
            "@carol; not counted by the rate limit",
            fields=(("Incident", INCIDENT), ("Merged by", "@carol")),
            link=URL,
            idempotency_key=f"drill-merged:{REPO}#4321",
            subject=f"{REPO}#4321",
        ),
        id="every merged drill is seen in the audit channel",
    ),
]


@pytest.mark.parametrize(("built", "want"), CASES)
def test_builder_gives_exact_notice(built: Notice, want: Notice) -> None:
    assert built == want


def test_a_drills_notice_starts_with_the_drill_marker_once() -> None:
    merged = notices.incident_merged(**HOTFIX, merged_by="carol", bypassed=False)

    drilled = notices.drilled(notices.drilled(merged, True), True)

    assert drilled.text == (
        f"[DRILL] Merged: {INCIDENT} ({REPO}#4321) by @carol (merged through the lane)"
    )
    assert notices.drilled(merged, False) == merged
