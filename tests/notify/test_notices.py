"""Every audit notice's exact wording, fields, link and idempotency key."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from functools import partial
from typing import TypedDict

import pytest

from app.notify import notices
from app.notify.notices import Notice, NoticeKind, Thread
from tests.notify.samples import (
    HOTFIX,
    HOTFIX_URL,
    PR_URL,
    REPO,
    SUBJECT,
    TITLE,
    make_notice,
)
from tests.notify.test_incident_notices import CASES as INCIDENT_CASES

AUDIT_URL = "https://github.com/organizations/acme/settings/audit-log"


class PullRequestFields(TypedDict):
    """The arguments every pull-request notice builder takes."""

    repo: str
    number: int
    title: str
    url: str


PR = PullRequestFields(repo=REPO, number=4321, title=TITLE, url=PR_URL)


MERGED = datetime(2026, 5, 20, 9, 52, tzinfo=UTC)

# Follow-up notices are about the hotfix and answer in its thread.
follow_up_expected = partial(
    make_notice, link=HOTFIX_URL, subject="acme/bookstore-platform#4321", thread=Thread.REPLY
)


# Most notices link to the pull request, and are about it.
expected = partial(make_notice, link=PR_URL, subject=SUBJECT)

# Audit-log notices are about their event (``subject``), and link to the audit log if at all.
audit_expected = partial(make_notice, link=None)


CASES = [
    pytest.param(
        notices.admin_merge(
            **PR,
            merged_by="alice",
            incident_id="INC-2026-05-20-001",
            approver="alice",
            cleanup_owner="@bob",
        ),
        expected(
            NoticeKind.ADMIN_MERGE,
            f"@alice merged PR #4321 ({TITLE}) via admin bypass",
            [
                ("Incident", "INC-2026-05-20-001"),
                ("Approver", "@alice"),
                ("Cleanup owner", "@bob"),
                ("Repository", REPO),
            ],
            "admin-merge:acme/api#4321",
        ),
        id="an admin merge names merger, PR and title, with incident, approver and cleanup owner",
    ),
    pytest.param(
        notices.admin_merge(
            **PR, merged_by="alice", incident_id=None, approver=None, cleanup_owner=None
        ),
        expected(
            NoticeKind.ADMIN_MERGE,
            f"@alice merged PR #4321 ({TITLE}) via admin bypass",
            [
                ("Incident", "not named"),
                ("Approver", "not named"),
                ("Cleanup owner", "not named"),
                ("Repository", REPO),
            ],
            "admin-merge:acme/api#4321",
        ),
        id="an admin merge without incident, approver or cleanup owner says they are not named",
    ),
    pytest.param(
        notices.bypass_by_non_member(**PR, merged_by="mallory", bypass_team="platform-admins"),
        expected(
            NoticeKind.BYPASS_BY_NON_MEMBER,
            f"VIOLATION: @mallory merged PR #4321 ({TITLE}) via admin bypass "
            "but is not a member of @acme/platform-admins, the bypass team",
            [
                ("Repository", REPO),
                ("Merged by", "@mallory"),
                ("Bypass team", "@acme/platform-admins"),
            ],
            "bypass-by-non-member:acme/api#4321",
            violation=True,
        ),
        id="a bypass by a non-member is a violation naming the bypass team",
    ),
    pytest.param(
        notices.scan_bypassed(**PR, merged_by="alice", scans={"trivy": "failure", "snyk": None}),
        expected(
            NoticeKind.SCAN_BYPASSED,
            f"SECURITY EVENT: @alice merged PR #4321 ({TITLE}) without a passing scan "
            "(trivy: failure, snyk: not finished)",
            [
                ("Repository", REPO),
                ("Merged by", "@alice"),
                ("Scan", "trivy: failure, snyk: not finished"),
            ],
            "scan-bypassed:acme/api#4321",
            violation=True,
        ),
        id="a merge past a failed or unfinished scan is a security event",
    ),
    pytest.param(
        notices.scan_bypassed(**PR, merged_by="alice", scans={}),
        expected(
            NoticeKind.SCAN_BYPASSED,
            f"SECURITY EVENT: @alice merged PR #4321 ({TITLE}) without a passing scan "
            "(no scan check ran)",
            [("Repository", REPO), ("Merged by", "@alice"), ("Scan", "no scan check ran")],
            "scan-bypassed:acme/api#4321",
            violation=True,
        ),
        id="a merge with no scan check at all is a security event",
    ),
    pytest.param(
        notices.bypass_outside_lane(
            repo=REPO,
            number=77,
            title="Bump deps",
            merged_by="dave",
            url="https://github.com/acme/api/pull/77",
        ),
        expected(
            NoticeKind.BYPASS_OUTSIDE_LANE,
            "VIOLATION: @dave merged PR #77 (Bump deps) via admin bypass "
            "but it is not in the hotfix lane",
            [("Repository", REPO), ("Merged by", "@dave")],
            "bypass-outside-lane:acme/api#77",
            link="https://github.com/acme/api/pull/77",
            violation=True,
            subject="acme/api#77",
        ),
        id="a bypass merge of an ordinary PR is a violation",
    ),
    pytest.param(
        notices.approver_not_merger(**PR, merged_by="carol", approver="alice"),
        expected(
            NoticeKind.APPROVER_NOT_MERGER,
            f"VIOLATION: @carol merged PR #4321 ({TITLE}), "
            "but the policy says its approver (@alice) merges",
            [("Repository", REPO), ("Merged by", "@carol"), ("Approver", "@alice")],
            "approver-not-merger:acme/api#4321",
            violation=True,
        ),
        id="someone other than the approver merging is a violation naming both",
    ),
    pytest.param(
        notices.rate_limit_tripped(
            repo=REPO,
            number=4321,
            count=3,
            limit=3,
            window_days=7,
            review_team="platform-team",
            url=PR_URL,
        ),
        expected(
            NoticeKind.RATE_LIMIT_TRIPPED,
            "RATE LIMIT: 3 hotfixes merged in acme in the last 7 days (limit 3); "
            "PR #4321 in acme/api needs a review by @acme/platform-team before it merges",
            [
                ("Organisation", "acme"),
                ("Hotfixes", "3 in 7 days (limit 3)"),
                ("Pull request", "acme/api#4321"),
                ("Review team", "@acme/platform-team"),
            ],
            "rate-limit-tripped:acme/api#4321",
        ),
        id="the rate limit tripping names the count, the window and the review team",
    ),
    pytest.param(
        notices.author_quota_exceeded(
            repo=REPO,
            number=4321,
            author="bob",
            count=5,
            quota=4,
            quarter="2026-Q2",
            review_team="acme/platform-team",
            url=PR_URL,
        ),
        expected(
            NoticeKind.AUTHOR_QUOTA_EXCEEDED,
            "CODE YELLOW: @bob has merged 5 hotfixes in 2026-Q2, more than 4 a quarter; "
            "@acme/platform-team to hold a code-yellow conversation",
            [
                ("Author", "@bob"),
                ("Quarter", "2026-Q2"),
                ("Hotfixes", "5 (quota 4)"),
                ("Latest hotfix", "acme/api#4321"),
            ],
            "author-quota-exceeded:acme/api#4321",
        ),
        id="the author quota is a code-yellow notice keyed by the hotfix that crossed it",
    ),
    pytest.param(
        notices.status_spoofed(
            repo=REPO,
            sha="0123456789abcdef0123456789abcdef01234567",
            context="hotfix-lane/policy",
            state="success",
            set_by="mallory",
            status_id=987,
        ),
        expected(
            NoticeKind.STATUS_SPOOFED,
            "SECURITY EVENT: The hotfix-lane/policy status on acme/api@0123456 was set to "
            "success by @mallory; only the hotfix-lane app may set it",
            [
                ("Repository", REPO),
                ("Commit", "0123456789abcdef0123456789abcdef01234567"),
                ("Status", "hotfix-lane/policy: success"),
                ("Set by", "@mallory"),
            ],
            "status-spoofed:acme/api:987",
            link=None,
            violation=True,
            subject=None,
        ),
        id="someone else setting the policy status is a security event",
    ),
    pytest.param(
        notices.status_spoofed(
            repo=REPO,
            sha="abc",
            context="hotfix-lane/policy",
            state="success",
            set_by=None,
            status_id=988,
            url=PR_URL,
        ),
        expected(
            NoticeKind.STATUS_SPOOFED,
            "SECURITY EVENT: The hotfix-lane/policy status on acme/api@abc was set to "
            "success by an unknown account; only the hotfix-lane app may set it",
            [
                ("Repository", REPO),
                ("Commit", "abc"),
                ("Status", "hotfix-lane/policy: success"),
                ("Set by", "an unknown account"),
            ],
            "status-spoofed:acme/api:988",
            violation=True,
            subject=None,
        ),
        id="a spoofed status with no known sender says so",
    ),
    pytest.param(
        notices.check_run_spoofed(
            repo=REPO,
            sha="0123456789abcdef0123456789abcdef01234567",
            name="hotfix-lane",
            app="github-actions",
        ),
        expected(
            NoticeKind.CHECK_RUN_SPOOFED,
            "SECURITY EVENT: A hotfix-lane check run on acme/api@0123456 was created by "
            "github-actions, not the hotfix-lane app; branch protection must require the "
            "hotfix-lane check run from this App",
            [
                ("Repository", REPO),
                ("Commit", "0123456789abcdef0123456789abcdef01234567"),
                ("Check run", "hotfix-lane by github-actions"),
            ],
            "check-run-spoofed:acme/api@0123456789abcdef0123456789abcdef01234567:github-actions",
            link=None,
            violation=True,
            subject=None,
        ),
        id="another App's check run of our name is a security event",
    ),
    pytest.param(
        notices.approver_not_confirmed(**PR, merged_by="carol", approver="alice"),
        expected(
            NoticeKind.APPROVER_NOT_CONFIRMED,
            f"VIOLATION: @carol merged PR #4321 ({TITLE}) without its named approver @alice "
            "confirming it (an approving review or /hotfix approve on the head)",
            [("Repository", REPO), ("Merged by", "@carol"), ("Approver", "@alice")],
            "approver-not-confirmed:acme/api#4321",
            violation=True,
        ),
        id="a merge the named approver never confirmed is a violation",
    ),
    pytest.param(
        notices.policy_changed(
            repo=REPO,
            source="acme/api:.github/hotfix-lane.yml",
            pushed_by="mallory",
            sha="e7f8091a2b3c4d5e6f708192a3b4c5d6e7f80912",
            changes=["rules.diff-size.max_lines 49 → 30"],
            ignored=["rate_limit.max_hotfixes (would loosen: 10 > 3)"],
        ),
        expected(
            NoticeKind.POLICY_CHANGED,
            "Policy changed: @mallory changed acme/api:.github/hotfix-lane.yml: "
            "rules.diff-size.max_lines 49 → 30",
            [
                ("Repository", REPO),
                ("File", "acme/api:.github/hotfix-lane.yml"),
                ("Pushed by", "@mallory"),
                ("Commit", "e7f8091a2b3c4d5e6f708192a3b4c5d6e7f80912"),
                ("Ignored", "rate_limit.max_hotfixes (would loosen: 10 > 3)"),
            ],
            "policy-changed:acme/api:.github/hotfix-lane.yml@e7f8091a2b3c4d5e6f708192a3b4c5d6e7f80912",
            link=None,
            subject=None,
        ),
        id="a changed policy file names who and which values moved",
    ),
    pytest.param(
        notices.policy_override(
            repo=REPO,
            branch="main",
            actor="alice",
            overridden=["required_status_checks", "review_policy_not_satisfied"],
            reasons=['Required status check "e2e" is expected.'],
            document_id="doc-0",
            url=AUDIT_URL,
        ),
        audit_expected(
            NoticeKind.POLICY_OVERRIDE,
            "Audit log: @alice overrode branch protection on acme/api main "
            "(required_status_checks, review_policy_not_satisfied)",
            [
                ("Repository", REPO),
                ("Branch", "main"),
                ("Actor", "@alice"),
                ("Overridden", "required_status_checks, review_policy_not_satisfied"),
                ("Reasons", 'Required status check "e2e" is expected.'),
                ("Audit event", "doc-0"),
            ],
            "audit-log:doc-0",
            link=AUDIT_URL,
            subject="audit:doc-0",
        ),
        id="a policy override is posted with what it overrode and why, starting its thread",
    ),
    pytest.param(
        notices.policy_override(
            repo=REPO,
            branch="main",
            actor="alice",
            overridden=[],
            reasons=[],
            document_id="doc-0",
        ),
        audit_expected(
            NoticeKind.POLICY_OVERRIDE,
            "Audit log: @alice overrode branch protection on acme/api main (not given)",
            [
                ("Repository", REPO),
                ("Branch", "main"),
                ("Actor", "@alice"),
                ("Overridden", "not given"),
                ("Audit event", "doc-0"),
            ],
            "audit-log:doc-0",
            subject="audit:doc-0",
        ),
        id="a policy override that does not say what it overrode says so",
    ),
    pytest.param(
        notices.policy_override_confirmed(
            repo=REPO,
            branch="main",
            actor="alice",
            number=4321,
            incident_id="INC-2026-05-20-001",
            document_id="doc-1",
            url=AUDIT_URL,
        ),
        audit_expected(
            NoticeKind.POLICY_OVERRIDE_CONFIRMED,
            "Override confirmed: the admin merge of PR #4321 (INC-2026-05-20-001) on acme/api main",
            [
                ("Repository", REPO),
                ("Branch", "main"),
                ("Actor", "@alice"),
                ("Hotfix", "acme/api#4321"),
                ("Incident", "INC-2026-05-20-001"),
                ("Audit event", "doc-1"),
            ],
            "audit-outcome:doc-1",
            link=AUDIT_URL,
            subject="audit:doc-1",
            thread=Thread.REPLY,
        ),
        id="a policy override matching a hotfix is confirmed in the override's thread",
    ),
    pytest.param(
        notices.policy_override_unmatched(
            repo=REPO, branch="main", actor="dave", window_minutes=15, document_id="doc-2"
        ),
        audit_expected(
            NoticeKind.POLICY_OVERRIDE_UNMATCHED,
            "VIOLATION: no hotfix: @dave overrode branch protection on acme/api main, "
            "a bypass outside the hotfix lane "
            "(no admin merge of a hotfix there within 15 minutes)",
            [
                ("Repository", REPO),
                ("Branch", "main"),
                ("Actor", "@dave"),
                ("Audit event", "doc-2"),
            ],
            "audit-outcome:doc-2",
            subject="audit:doc-2",
            thread=Thread.REPLY_BROADCAST,
            violation=True,
        ),
        id="a policy override with no hotfix is a violation, answered and shown in the channel",
    ),
    pytest.param(
        notices.ruleset_bypass(
            repo=REPO,
            ruleset="main protection",
            ref="refs/heads/main",
            actor="erin",
            document_id="doc-3",
        ),
        audit_expected(
            NoticeKind.RULESET_BYPASS,
            'Audit log: @erin bypassed ruleset "main protection" on acme/api refs/heads/main',
            [
                ("Repository", REPO),
                ("Branch", "refs/heads/main"),
                ("Actor", "@erin"),
                ("Ruleset", "main protection"),
                ("Audit event", "doc-3"),
            ],
            "audit-log:doc-3",
            subject="audit:doc-3",
        ),
        id="a ruleset bypass is announced from the audit log",
    ),
    pytest.param(
        notices.branch_protection_weakened(
            repo=REPO,
            branch="main",
            actor="eve",
            changes=["required approvals 1 -> 0", "status checks not required"],
            document_id="doc-4",
        ),
        audit_expected(
            NoticeKind.BRANCH_PROTECTION_WEAKENED,
            "Audit log: @eve weakened branch protection on acme/api main "
            "(required approvals 1 -> 0; status checks not required)",
            [
                ("Repository", REPO),
                ("Branch", "main"),
                ("Actor", "@eve"),
                ("Changes", "required approvals 1 -> 0; status checks not required"),
                ("Audit event", "doc-4"),
            ],
            "audit-log:doc-4",
            subject="audit:doc-4",
        ),
        id="weakened branch protection lists what changed",
    ),
    pytest.param(
        notices.branch_protection_deleted(
            repo=REPO, branch="main", actor="eve", document_id="doc-5"
        ),
        audit_expected(
            NoticeKind.BRANCH_PROTECTION_DELETED,
            "Audit log: @eve deleted branch protection on acme/api main",
            [
                ("Repository", REPO),
                ("Branch", "main"),
                ("Actor", "@eve"),
                ("Audit event", "doc-5"),
            ],
            "audit-log:doc-5",
            subject="audit:doc-5",
        ),
        id="deleted branch protection is announced",
    ),
    pytest.param(
        notices.bypass_team_member_added(
            org="acme",
            team="platform-admins",
            member="mallory",
            actor="eve",
            document_id="doc-6",
            url=AUDIT_URL,
        ),
        audit_expected(
            NoticeKind.BYPASS_TEAM_MEMBER_ADDED,
            "Audit log: @eve added @mallory to @acme/platform-admins, the bypass team",
            [
                ("Organisation", "acme"),
                ("Team", "@acme/platform-admins"),
                ("Member", "@mallory"),
                ("Added by", "@eve"),
                ("Audit event", "doc-6"),
            ],
            "audit-log:doc-6",
            link=AUDIT_URL,
            subject="audit:doc-6",
        ),
        id="a member added to the bypass team is announced with who added them",
    ),
    pytest.param(
        notices.follow_up_reminder(
            **HOTFIX,
            follow_up="postmortem",
            owner="bob",
            due_at=MERGED + timedelta(hours=48),
        ),
        follow_up_expected(
            NoticeKind.FOLLOW_UP_REMINDER,
            "Reminder: the postmortem of INC-2026-05-20-001 (acme/bookstore-platform#4321) "
            "is due 2026-05-22 09:52 UTC; owner @bob",
            [
                ("Incident", "INC-2026-05-20-001"),
                ("Follow-up", "postmortem"),
                ("Owner", "@bob"),
                ("Due", "2026-05-22 09:52 UTC"),
                ("Hotfix", "acme/bookstore-platform#4321"),
            ],
            "follow-up-reminder:acme/bookstore-platform#4321:postmortem",
        ),
        id="a reminder names the follow-up, incident, hotfix, due time and owner, in the thread",
    ),
    pytest.param(
        notices.follow_up_overdue(
            **HOTFIX,
            follow_up="cleanup PR",
            owner="@bob",
            due_at=MERGED + timedelta(hours=24),
        ),
        follow_up_expected(
            NoticeKind.FOLLOW_UP_OVERDUE,
            "OVERDUE: the cleanup PR of INC-2026-05-20-001 (acme/bookstore-platform#4321) "
            "was due 2026-05-21 09:52 UTC; owner @bob",
            [
                ("Incident", "INC-2026-05-20-001"),
                ("Follow-up", "cleanup PR"),
                ("Owner", "@bob"),
                ("Due", "2026-05-21 09:52 UTC"),
                ("Hotfix", "acme/bookstore-platform#4321"),
            ],
            "follow-up-overdue:acme/bookstore-platform#4321:cleanup-pr",
            thread=Thread.REPLY_BROADCAST,
        ),
        id="an overdue follow-up says OVERDUE and is broadcast to the channel from the thread",
    ),
    pytest.param(
        notices.follow_up_overdue(
            **(HOTFIX | {"incident_id": None}),
            follow_up="audit review",
            owner=None,
            # Shown in UTC whatever zone the time comes in.
            due_at=datetime(2026, 5, 27, 11, 52, tzinfo=timezone(timedelta(hours=2))),
        ),
        follow_up_expected(
            NoticeKind.FOLLOW_UP_OVERDUE,
            "OVERDUE: the audit review of no incident named (acme/bookstore-platform#4321) "
            "was due 2026-05-27 09:52 UTC; no owner named",
            [
                ("Incident", "no incident named"),
                ("Follow-up", "audit review"),
                ("Owner", "no owner named"),
                ("Due", "2026-05-27 09:52 UTC"),
                ("Hotfix", "acme/bookstore-platform#4321"),
            ],
            "follow-up-overdue:acme/bookstore-platform#4321:audit-review",
            thread=Thread.REPLY_BROADCAST,
        ),
        id="an overdue follow-up without incident or owner says neither was named",
    ),
    pytest.param(
        notices.follow_up_done(
            **HOTFIX,
            follow_up="postmortem",
            done_by="bob",
            evidence="https://wiki.acme.example/postmortems/INC-2026-05-20-001",
        ),
        follow_up_expected(
            NoticeKind.FOLLOW_UP_DONE,
            "Done: the postmortem of INC-2026-05-20-001 (acme/bookstore-platform#4321), by @bob",
            [
                ("Incident", "INC-2026-05-20-001"),
                ("Follow-up", "postmortem"),
                ("Done by", "@bob"),
                ("Evidence", "https://wiki.acme.example/postmortems/INC-2026-05-20-001"),
                ("Hotfix", "acme/bookstore-platform#4321"),
            ],
            "follow-up-done:acme/bookstore-platform#4321:postmortem",
        ),
        id="a done follow-up names who did it, with the evidence as a field",
    ),
    pytest.param(
        notices.follow_up_done(
            **HOTFIX, follow_up="breakglass cleanup", done_by=None, evidence=None
        ),
        follow_up_expected(
            NoticeKind.FOLLOW_UP_DONE,
            "Done: the breakglass cleanup of INC-2026-05-20-001 (acme/bookstore-platform#4321)",
            [
                ("Incident", "INC-2026-05-20-001"),
                ("Follow-up", "breakglass cleanup"),
                ("Hotfix", "acme/bookstore-platform#4321"),
            ],
            "follow-up-done:acme/bookstore-platform#4321:breakglass-cleanup",
        ),
        id="a done follow-up with nobody and nothing named leaves both out",
    ),
    pytest.param(
        notices.follow_ups_complete(**HOTFIX),
        follow_up_expected(
            NoticeKind.FOLLOW_UPS_COMPLETE,
            "Every follow-up of INC-2026-05-20-001 (acme/bookstore-platform#4321) is done; "
            "the tracking issue is closed",
            [("Incident", "INC-2026-05-20-001"), ("Hotfix", "acme/bookstore-platform#4321")],
            "follow-ups-complete:acme/bookstore-platform#4321",
        ),
        id="the last follow-up done closes the hotfix's thread",
    ),
]


@pytest.mark.parametrize(("built", "want"), CASES)
def test_builder_gives_exact_notice(built: Notice, want: Notice) -> None:
    assert built == want


def test_every_kind_has_a_builder_case() -> None:
    cases = [*CASES, *INCIDENT_CASES]
    covered = {param.values[0].kind for param in cases}  # type: ignore[union-attr]
    # The review notices are pinned in test_review_notices.py.
    covered |= {NoticeKind.WEEKLY_DIGEST, NoticeKind.RUNBOOK_STALE}
    assert covered == set(NoticeKind)


def test_text_is_one_line_even_when_the_title_is_not() -> None:
    notice = notices.bypass_outside_lane(
        repo=REPO, number=1, title="Fix\n\tthings  now", merged_by="dave", url=PR_URL
    )
    assert notice.text == (
        "VIOLATION: @dave merged PR #1 (Fix things now) via admin bypass "
        "but it is not in the hotfix lane"
    )


def test_keys_ignore_free_text_so_an_edited_title_is_the_same_notice() -> None:
    first = notices.admin_merge(
        **(PR | {"title": "old"}),
        merged_by="a",
        incident_id=None,
        approver=None,
        cleanup_owner=None,
    )
    second = notices.admin_merge(
        **(PR | {"title": "new"}),
        merged_by="a",
        incident_id=None,
        approver=None,
        cleanup_owner=None,
    )
    assert first.idempotency_key == second.idempotency_key


def test_security_events_are_also_violations() -> None:
    for kind in notices.SECURITY_EVENTS:
        assert kind in notices.VIOLATIONS


@pytest.mark.parametrize("built", [param.values[0] for param in CASES])
def test_notice_round_trips_through_its_stored_form(built: Notice) -> None:
    assert Notice.from_dict(json.loads(json.dumps(built.to_dict()))) == built


def test_a_notice_stored_before_threads_existed_reads_as_a_top_level_message() -> None:
    stored = {
        "kind": "admin_merge",
        "violation": False,
        "text": "x",
        "fields": [["Repository", REPO]],
        "link": PR_URL,
        "idempotency_key": "admin-merge:acme/api#4321",
    }

    notice = Notice.from_dict(stored)

    assert (notice.subject, notice.thread) == (None, Thread.TOP)


def test_the_stored_form_carries_subject_and_thread() -> None:
    notice = notices.follow_up_overdue(**HOTFIX, follow_up="cleanup PR", owner="bob", due_at=MERGED)

    stored = notice.to_dict()

    assert (stored["subject"], stored["thread"]) == (
        "acme/bookstore-platform#4321",
        "reply_broadcast",
    )


def test_only_the_known_follow_ups_have_notices() -> None:
    with pytest.raises(ValueError, match="unknown follow-up 'retro'"):
        notices.follow_up_reminder(**HOTFIX, follow_up="retro", owner="bob", due_at=MERGED)


def test_a_due_time_without_a_time_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="no time zone"):
        notices.follow_up_reminder(
            **HOTFIX, follow_up="postmortem", owner="bob", due_at=datetime(2026, 5, 22, 9, 52)
        )
