"""The tracking issue's title and body, exactly (a pure function of the rows)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from app.followups import body
from app.store.models import AuditEvent, FollowUp, Recovery
from tests.rows import hotfix_record

MERGED = datetime(2026, 5, 20, 9, 52, 31, tzinfo=UTC)
OPENED = datetime(2026, 5, 20, 9, 14, 7, tzinfo=UTC)


def follow_up(kind: str, owner: str, hours: float, **changes: Any) -> FollowUp:
    values: dict[str, Any] = {
        "hotfix_id": 1,
        "kind": kind,
        "owner": owner,
        "due_at": MERGED + timedelta(hours=hours),
        "state": "open",
        "created_at": MERGED,
        "updated_at": MERGED,
    }
    values.update(changes)
    return FollowUp(**values)


@pytest.mark.parametrize(
    ("row", "line"),
    [
        pytest.param(
            follow_up("cleanup-pr", "bob", 24),
            "- [ ] cleanup PR: owner @bob, due 2026-05-21 09:52 UTC",
            id="an open follow-up is an open box",
        ),
        pytest.param(
            follow_up(
                "postmortem",
                "bob",
                48,
                state="done",
                done_by="bob",
                done_at=MERGED + timedelta(hours=30),
                evidence="https://github.com/acme/docs/blob/main/pm.md",
            ),
            "- [x] postmortem: owner @bob, due 2026-05-22 09:52 UTC; done 2026-05-21 15:52 UTC "
            "by @bob (https://github.com/acme/docs/blob/main/pm.md)",
            id="a done one is ticked with who and what",
        ),
        pytest.param(
            follow_up("audit-review", "acme/platform-team", 168, state="overdue"),
            "- [ ] audit review: owner @acme/platform-team, due 2026-05-27 09:52 UTC; **OVERDUE**",
            id="an overdue one says so",
        ),
        pytest.param(
            follow_up("breakglass-cleanup", "bob", 24),
            "- [ ] breakglass cleanup: owner @bob, due 2026-05-21 09:52 UTC",
            id="the breakglass cleanup",
        ),
    ],
)
def test_each_follow_up_is_one_task_list_line(row: FollowUp, line: str) -> None:
    assert body.follow_up_line(row) == line


def test_the_title_names_the_incident_and_the_pull_request() -> None:
    assert body.title(hotfix_record(MERGED)) == "Hotfix follow-up: INC-2026-05-20-001 (#4321)"


def test_the_body_lists_who_what_when_and_the_audit_checklist() -> None:
    record = hotfix_record(
        MERGED, merged_by="carol", bypass_reasons='["0 approving review(s), 1 required"]'
    )
    event = AuditEvent(
        action="protected_branch.policy_override",
        actor="carol",
        repo="acme/bookstore-platform",
        created_at=MERGED - timedelta(seconds=20),
        received_at=MERGED,
        body="{}",
    )
    window = body.AuditWindow(since=OPENED, until=MERGED, admin_merges=[record], events=[event])

    text = body.render(
        record,
        [follow_up("cleanup-pr", "bob", 24), follow_up("postmortem", "bob", 48)],
        window,
        review_team="acme/platform-team",
    )

    assert text.splitlines() == [
        "<!-- hotfix-lane:tracking acme/bookstore-platform#4321 -->",
        "Follow-ups of hotfix #4321, merged 2026-05-20 09:52 UTC. The runbook's non-negotiable: "
        "every hotfix is followed by a cleanup PR, a postmortem and an audit-log review.",
        "",
        "| | |",
        "|---|---|",
        "| Pull request | https://github.com/acme/bookstore-platform/pull/4321 |",
        "| Incident | INC-2026-05-20-001 |",
        "| Approver | @alice |",
        "| Cleanup owner | @bob |",
        "| Merged by | @carol (admin bypass: 0 approving review(s), 1 required) |",
        "| Scan at merge | passed |",
        "",
        "## Follow-ups",
        "",
        "- [ ] cleanup PR: owner @bob, due 2026-05-21 09:52 UTC",
        "- [ ] postmortem: owner @bob, due 2026-05-22 09:52 UTC",
        "",
        "Comment `/hotfix help` here or on the pull request for the commands that close them.",
        "",
        "## Shipped and verified",
        "",
        "- Deployed: no successful deployment reported yet.",
        "- Recovery: not verified by hotfix-lane (no `verify` query in the policy, or no "
        "Prometheus configured): re-query the symptom metric by hand.",
        "",
        "## Audit review checklist",
        "",
        "For a member of @acme/platform-team who is not the author, the approver or who merged "
        "it. The hotfix window: 2026-05-20 09:14 UTC to 2026-05-20 09:52 UTC.",
        "",
        "Admin merges in the window (was the approver correct?):",
        "- acme/bookstore-platform#4321 merged 2026-05-20 09:52 UTC by @carol; approver @alice",
        "",
        "Breakglass role: not declared as used.",
        "",
        "Audit-log events for acme/bookstore-platform in the window (any unrelated action: "
        "investigate):",
        "- 2026-05-20 09:52 UTC `protected_branch.policy_override` by @carol",
    ]


def test_a_breakglass_hotfix_asks_about_its_scope() -> None:
    window = body.AuditWindow(since=OPENED, until=MERGED, admin_merges=[], events=[])
    text = body.render(
        hotfix_record(MERGED, breakglass=True), [], window, review_team="acme/platform-team"
    )
    assert (
        "Breakglass role: **used**: was its scope minimal, and is its cleanup checklist done?"
        in text.splitlines()
    )
    assert text.count("- none recorded") == 2


def test_the_closing_summary_repeats_the_lines() -> None:
    done = follow_up("cleanup-pr", "bob", 24, state="done", done_by="dave", evidence="#4330")
    assert body.summary(hotfix_record(MERGED), [done]) == (
        "Every follow-up of hotfix #4321 is done; closing this issue.\n\n"
        "- [x] cleanup PR: owner @bob, due 2026-05-21 09:52 UTC; done by @dave (#4330)"
    )


@pytest.mark.parametrize(
    ("state", "changes", "line"),
    [
        pytest.param(
            "waiting",
            {},
            "- Recovery: waiting for the deployment; verified from then, or from "
            "2026-05-20 10:02 UTC if none is reported.",
            id="waiting for the deployment",
        ),
        pytest.param(
            "verifying",
            {"last_value": "0.2"},
            "- Recovery: being verified until 2026-05-20 10:02 UTC (last value 0.2).",
            id="being verified",
        ),
        pytest.param(
            "recovered",
            {"last_value": "0.004", "concluded_at": MERGED + timedelta(minutes=4)},
            "- Recovery: **recovered** at 2026-05-20 09:56 UTC: the symptom metric read 0.004.",
            id="recovered",
        ),
        pytest.param(
            "not_recovered",
            {"last_value": "0.2"},
            "- Recovery: **DID NOT RECOVER** by 2026-05-20 10:02 UTC (last value 0.2): roll "
            "back the hotfix (revert + sync); do not chain another hotfix.",
            id="not recovered",
        ),
        pytest.param(
            "unverified",
            {"last_error": "Prometheus answered HTTP 503"},
            "- Recovery: **not verified**: Prometheus answered HTTP 503; check the symptom "
            "metric by hand.",
            id="unverified",
        ),
    ],
)
def test_the_recovery_line_says_where_verification_stands(
    state: str, changes: dict[str, object], line: str
) -> None:
    row = Recovery(
        hotfix_id=1,
        state=state,
        query="up",
        deadline=MERGED + timedelta(minutes=10),
        created_at=MERGED,
        updated_at=MERGED,
        **changes,  # type: ignore[arg-type]
    )
    assert body.recovery_line(row) == line


def test_a_deployment_line_says_where_and_how_soon() -> None:
    record = hotfix_record(MERGED)
    record.deployed_at = MERGED + timedelta(minutes=6, seconds=9)
    record.deployment_environment = "production"

    assert body.deployment_line(record) == (
        "- Deployed: production at 2026-05-20 09:58 UTC, 6 min after the merge."
    )


def test_a_drills_issue_says_so_first() -> None:
    record = hotfix_record(MERGED)
    record.drill = True
    window = body.AuditWindow(since=OPENED, until=MERGED, admin_merges=[], events=[])

    lines = body.render(record, [], window, review_team="acme/platform-team").splitlines()

    assert lines[1] == (
        "**[DRILL]** A game-day drill: the whole lane as a dry run, with its deadlines scaled "
        "down. It is not counted by the rate limit or the author quota."
    )
